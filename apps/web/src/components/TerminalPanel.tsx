import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { Button, Content, Flex, Label } from '@patternfly/react-core';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { useSession } from '../App';
import type { InstanceView } from '../generated/api-types';

/** The console WebSocket's subprotocol; the token travels as a second one, never in the URL (docs/api.md). */
const PROTOCOL = 'berth.terminal.v1';

/** What each close code of the API means, when the close frame gives no reason of its own. */
const CLOSED: Record<number, string> = {
  1000: 'The terminal ended.',
  1001: 'The API is restarting.',
  1006: 'The connection could not be made or was lost.',
  4401: 'Your session ended.',
  4408: 'The terminal printed faster than this page could show it.',
  4409: 'The host refused the console.',
  4503: "The instance's host did not answer.",
};

type Phase = { name: 'connecting' } | { name: 'open'; kind: string } | { name: 'closed'; message: string };

/** Connects xterm.js in `screen` to the instance's console; a new `attempt` connects again. */
function useTerminal(
  instanceId: string,
  token: string,
  screen: RefObject<HTMLDivElement | null>,
  leave: RefObject<HTMLButtonElement | null>,
): { phase: Phase; disconnect: () => void; reconnect: () => void } {
  const [phase, setPhase] = useState<Phase>({ name: 'connecting' });
  const [attempt, setAttempt] = useState(0);
  const socket = useRef<WebSocket | null>(null);
  useEffect(() => {
    const element = screen.current;
    if (!element) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== 'keydown' || !event.ctrlKey || event.key !== ']') return true;
      leave.current?.focus();
      return false;
    });
    const url = new URL(`/v1/instances/${instanceId}/terminal`, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = `cols=${term.cols}&rows=${term.rows}`;
    const ws = new WebSocket(url, [PROTOCOL, `berth.token.${token}`]);
    ws.binaryType = 'arraybuffer';
    socket.current = ws;
    const encoder = new TextEncoder();
    const send = (data: string | Uint8Array<ArrayBuffer>) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data !== 'string') return term.write(new Uint8Array(event.data));
      const control = JSON.parse(event.data) as { type: string; kind?: string };
      if (control.type !== 'opened') return;
      setPhase({ name: 'open', kind: control.kind ?? 'shell' });
      term.focus();
    };
    ws.onclose = (event) => setPhase({ name: 'closed', message: event.reason || CLOSED[event.code] || 'Closed.' });
    const typed = term.onData((data) => send(encoder.encode(data)));
    const binary = term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    const resized = term.onResize(({ cols, rows }) => send(JSON.stringify({ type: 'resize', cols, rows })));
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(element);
    return () => {
      observer.disconnect();
      for (const listener of [typed, binary, resized]) listener.dispose();
      ws.onclose = null;
      ws.close(1000, 'the viewer left');
      term.dispose();
    };
  }, [instanceId, token, attempt, screen, leave]);
  return {
    phase,
    disconnect: () => socket.current?.close(1000, 'the viewer left'),
    reconnect: () => {
      setPhase({ name: 'connecting' });
      setAttempt((n) => n + 1);
    },
  };
}

/**
 * The instance's interactive console in the page: a shell in a container, a VM's serial console, in xterm.js over
 * the API's WebSocket. Ctrl-] moves the focus out of the terminal, so that the keyboard alone can leave it.
 */
export default function TerminalPanel({ instance }: { instance: InstanceView }) {
  const { session } = useSession();
  const screen = useRef<HTMLDivElement>(null);
  const leave = useRef<HTMLButtonElement>(null);
  const { phase, disconnect, reconnect } = useTerminal(instance.id, session.token, screen, leave);

  return (
    <Flex direction={{ default: 'column' }} gap={{ default: 'gapSm' }}>
      <Flex alignItems={{ default: 'alignItemsCenter' }}>
        <Label
          color={phase.name === 'open' ? 'green' : phase.name === 'closed' ? 'grey' : 'blue'}
          data-testid="terminal-state"
        >
          {phase.name === 'open' ? 'Connected' : phase.name === 'closed' ? 'Disconnected' : 'Connecting'}
        </Label>
        <Content component="small">
          {phase.name === 'open' && phase.kind === 'serial' && 'The serial console: press Enter for a prompt. '}
          {phase.name === 'closed' ? phase.message : 'Ctrl-] leaves the terminal.'}
        </Content>
        {phase.name === 'closed' ? (
          <Button variant="secondary" onClick={reconnect}>
            Connect again
          </Button>
        ) : (
          <Button variant="secondary" ref={leave} onClick={disconnect}>
            Disconnect
          </Button>
        )}
      </Flex>
      <div ref={screen} data-testid="terminal" style={{ height: '28rem' }} aria-label="Terminal" role="region" />
    </Flex>
  );
}
