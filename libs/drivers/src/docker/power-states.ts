import type { PowerState } from '@berth/contracts';
import type Docker from 'dockerode';

/** A container's state as Berth's power states. */
export function powerStateOf(state: Docker.ContainerInspectInfo['State']): PowerState {
  if (state.Paused) return 'PAUSED';
  if (state.Running) return 'RUNNING';
  if (state.Dead || state.OOMKilled) return 'CRASHED';
  return 'SHUTDOWN';
}

/** The state `docker ps` lists. */
export function powerStateOfListed(state: string): PowerState {
  switch (state) {
    case 'running':
      return 'RUNNING';
    case 'paused':
      return 'PAUSED';
    case 'dead':
      return 'CRASHED';
    default:
      return 'SHUTDOWN';
  }
}
