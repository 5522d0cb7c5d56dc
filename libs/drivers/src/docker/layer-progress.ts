/** One event of docker's pull or push stream. */
export interface LayerEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  /** Set when the daemon reports a failure inside the stream. */
  error?: string;
}

const DONE = /^(Pull complete|Already exists|Download complete|Pushed|Layer already exists|Mounted from .*)$/;

/** Sums docker's per-layer pull or push events into "12.0 of 45.5 MB (26%), 2 of 5 layers". */
export class LayerProgress {
  private readonly layers = new Map<string, { current: number; total: number; done: boolean }>();

  constructor(private readonly verb: 'pulled' | 'pushed') {}

  add(event: LayerEvent): void {
    if (!event.id || !event.status || !/^[0-9a-f]{12,64}$/.test(event.id)) return;
    const layer = this.layers.get(event.id) ?? { current: 0, total: 0, done: false };
    if (event.progressDetail?.total) {
      layer.total = event.progressDetail.total;
      layer.current = event.progressDetail.current ?? layer.current;
    }
    if (DONE.test(event.status)) {
      layer.done = true;
      layer.current = layer.total;
    }
    this.layers.set(event.id, layer);
  }

  describe(finished = false): string {
    const all = [...this.layers.values()];
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    const current = all.reduce((s, l) => s + l.current, 0);
    const total = all.reduce((s, l) => s + l.total, 0);
    const done = all.filter((l) => l.done).length;
    const percent = total > 0 ? ` (${Math.round((100 * current) / total)}%)` : '';
    return `${finished ? `${this.verb} ` : ''}${mb(current)} of ${mb(total)} MB${percent}, ${done} of ${all.length} layers`;
  }
}
