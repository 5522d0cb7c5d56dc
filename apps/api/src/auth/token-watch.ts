import { PgListener } from '@berth/data';
import { errorMessage, type Logger } from '@berth/platform';

export interface TokenWatchOptions {
  databaseUrl: string;
  /** How often every watched token is checked again, besides each revocation's notice. */
  checkMs: number;
  /** Which of these token ids are still valid (not revoked, not expired). */
  validTokens: (tokenIds: string[]) => Promise<Set<string>>;
}

/**
 * Ends what a token holds open (event streams, interactive consoles) once the token is revoked or expires: woken at
 * once by the notice each revocation sends on `berth_tokens` as it commits, and checking every `checkMs` besides (an
 * expiry sends none, and a notice can be missed while the listening connection is down). One query for all tokens.
 */
export class TokenWatch {
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly revocations: PgListener;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: TokenWatchOptions,
    private readonly log: Logger,
  ) {
    this.revocations = new PgListener(
      {
        databaseUrl: options.databaseUrl,
        channel: 'berth_tokens',
        name: 'berth-api-tokens',
        onNotify: () => void this.check(),
      },
      log,
    );
  }

  async start(): Promise<void> {
    await this.revocations.start();
    this.timer = setInterval(() => void this.check(), this.options.checkMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.revocations.stop();
  }

  /** Calls `onEnd` once when `tokenId` stops being valid; returns the function that stops watching. */
  watch(tokenId: string, onEnd: () => void): () => void {
    const ends = this.watchers.get(tokenId) ?? new Set<() => void>();
    this.watchers.set(tokenId, ends);
    ends.add(onEnd);
    return () => {
      ends.delete(onEnd);
      if (ends.size === 0 && this.watchers.get(tokenId) === ends) this.watchers.delete(tokenId);
    };
  }

  /** Checks every watched token now. */
  async check(): Promise<void> {
    if (this.watchers.size === 0) return;
    try {
      const valid = await this.options.validTokens([...this.watchers.keys()]);
      for (const [tokenId, ends] of [...this.watchers]) {
        if (valid.has(tokenId)) continue;
        this.watchers.delete(tokenId);
        for (const end of ends) end();
      }
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, 'checking open sessions tokens failed, will retry');
    }
  }
}
