import type { AgentReport } from '@berth/contracts';
import type { ReportStore } from '@berth/db';

/** Applies agents' reports to the database, one report type at a time. */
export class ReportsService {
  constructor(private readonly store: ReportStore) {}

  async apply(report: AgentReport): Promise<void> {
    switch (report.type) {
      case 'host.heartbeat':
        return this.store.heartbeat(report.host);
      case 'operation.step':
        return this.store.step(report);
      case 'instance.result':
        return this.store.result(report);
    }
  }
}
