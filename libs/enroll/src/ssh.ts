import { createHash } from 'node:crypto';
import { Client, type ConnectConfig } from 'ssh2';

/** OpenSSH's way of writing a host key's fingerprint: "SHA256:" and the unpadded base64 of its hash. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export class HostKeyMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly presented: string,
  ) {
    super(`host key mismatch: the host presented ${presented}, but ${expected} is pinned for it`);
    this.name = 'HostKeyMismatch';
  }
}

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** The fingerprint the host must present; null: accept the first seen, which the caller then pins. */
  pinned: string | null;
  timeoutMs?: number;
}

/**
 * One SSH connection to a host being enrolled (ssh2): the host key is checked against the pinned
 * fingerprint before any authentication, commands run one at a time, files go over SFTP. Commands
 * are Berth's own fixed scripts; values in them are quoted with shQuote.
 */
export class SshSession {
  private constructor(
    private readonly client: Client,
    /** The fingerprint the host presented (equal to the pinned one, when one was). */
    readonly fingerprint: string,
  ) {}

  static connect(target: SshTarget): Promise<SshSession> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let presented = '';
      let mismatch: HostKeyMismatch | null = null;
      const config: ConnectConfig = {
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: target.timeoutMs ?? 15_000,
        hostVerifier: (key: Buffer) => {
          presented = fingerprintOf(key);
          if (target.pinned !== null && target.pinned !== presented) {
            mismatch = new HostKeyMismatch(target.pinned, presented);
            return false;
          }
          return true;
        },
      };
      client
        .once('ready', () => resolve(new SshSession(client, presented)))
        .once('error', (error: Error) => {
          client.end();
          reject(mismatch ?? error);
        })
        .connect(config);
    });
  }

  /** Runs a command (a shell line of Berth's own) and collects its output and exit code. */
  exec(command: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) return reject(error);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const timer = setTimeout(() => {
          stream.close();
          reject(new Error(`the command did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
        stream.on('data', (chunk: Buffer) => out.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        stream.on('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({
            code: code ?? -1,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
        });
      });
    });
  }

  /** Writes a file over SFTP with the given mode (created or replaced). */
  writeFile(path: string, content: string, mode: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error) return reject(error);
        sftp.writeFile(path, content, { mode }, (writeError) => {
          sftp.end();
          if (writeError) reject(writeError);
          else resolve();
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

/** A value as one single-quoted shell word: nothing in it is interpreted. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
