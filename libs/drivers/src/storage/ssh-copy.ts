import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { DiskArtifact, SshPeer } from '@berth/contracts';
import { Client } from 'ssh2';

/* Copies of files between hosts over SSH, checked by SHA-256: a VM's disk and volumes on a cold move. */

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), bytes: (await stat(path)).size };
}

/**
 * Copies the source's file to `local` over SFTP (ssh2 fastGet, in parallel chunks), reporting bytes,
 * and checks its SHA-256: a copy that differs is an error, never a disk.
 */
export async function fetchOverSsh(
  peer: SshPeer,
  privateKey: string,
  artifact: DiskArtifact,
  local: string,
  onProgress: (detail: string) => Promise<void>,
): Promise<{ fingerprint: string }> {
  let presented = '';
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client
      .once('ready', () => resolve())
      .once('error', (error: Error) => reject(error))
      .connect({
        host: peer.address,
        port: peer.port,
        username: peer.username,
        privateKey,
        readyTimeout: 15_000,
        hostVerifier: (key: Buffer) => {
          presented = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
          return peer.fingerprint === null || peer.fingerprint === presented;
        },
      });
  }).catch((error: unknown) => {
    client.end();
    if (peer.fingerprint !== null && presented && presented !== peer.fingerprint) {
      throw new Error(`host key mismatch: ${peer.address} presented ${presented}, but ${peer.fingerprint} is pinned`);
    }
    throw error;
  });
  try {
    let last = 0;
    await new Promise<void>((resolve, reject) => {
      client.sftp((error, sftp) => {
        if (error) return reject(error);
        sftp.fastGet(
          artifact.path,
          local,
          {
            step: (done: number, _chunk: number, total: number) => {
              if (Date.now() - last < 1000) return;
              last = Date.now();
              const percent = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
              void onProgress(`${(done / 1024 / 1024).toFixed(1)} of ${(total / 1024 / 1024).toFixed(1)} MB${percent}`);
            },
          },
          (getError) => {
            sftp.end();
            if (getError) reject(getError);
            else resolve();
          },
        );
      });
    });
  } finally {
    client.end();
  }
  const copied = await sha256File(local);
  if (copied.sha256 !== artifact.sha256 || copied.bytes !== artifact.bytes) {
    throw new Error(
      `the copy differs from the source: sha256 ${copied.sha256} (${copied.bytes} bytes), expected ${artifact.sha256} (${artifact.bytes} bytes)`,
    );
  }
  await onProgress(`copied ${(copied.bytes / 1024 / 1024).toFixed(1)} MB, sha256 verified`);
  return { fingerprint: presented };
}
