import { Flex, FlexItem, Title } from '@patternfly/react-core';
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useSession } from '../App';
import type { InstanceStatsView } from '../generated/api-types';
import { ErrorAlert } from './ErrorAlert';

/** Samples kept: a minute at one a second. */
const WINDOW = 60;

interface Sample {
  at: number;
  stats: InstanceStatsView;
}

/**
 * CPU, memory, network and disk rates of a running instance, as its host measures them over each second
 * (/v1/instances/:id/stats): one request after the other while the page is open, the last minute drawn.
 */
export function StatsCharts({ instanceId }: { instanceId: string }) {
  const { client } = useSession();
  const [samples, setSamples] = useState<Sample[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  useEffect(() => {
    // Leaving the charts ends the sample in flight too.
    const abort = new AbortController();
    const open = () => !abort.signal.aborted;
    const sample = async () => {
      while (open()) {
        try {
          const stats = (
            await client.request<InstanceStatsView>('GET', `/v1/instances/${instanceId}/stats`, {
              query: { interval: 1 },
              signal: abort.signal,
            })
          ).body;
          if (!open()) return;
          setFailure(null);
          setSamples((all) => [...all, { at: Date.now() / 1000, stats }].slice(-WINDOW));
        } catch (error) {
          if (!open()) return;
          setFailure(error);
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      }
    };
    void sample();
    return () => abort.abort();
  }, [client, instanceId]);
  const at = samples.map((s) => s.at);
  const kb = (n: number) => Math.round(n / 1024);
  return (
    <>
      {failure !== null && <ErrorAlert error={failure} />}
      <Flex>
        <Chart title="CPU %" at={at} series={{ CPU: samples.map((s) => s.stats.cpu.percentOfVcpus) }} />
        <Chart title="Memory MB" at={at} series={{ Used: samples.map((s) => s.stats.memory.usedBytes / 1048576) }} />
        <Chart
          title="Network KB/s"
          at={at}
          series={{
            In: samples.map((s) => kb(s.stats.network.rxBytesPerSec)),
            Out: samples.map((s) => kb(s.stats.network.txBytesPerSec)),
          }}
        />
        <Chart
          title="Disk KB/s"
          at={at}
          series={{
            Read: samples.map((s) => kb(s.stats.blockIo.readBytesPerSec)),
            Write: samples.map((s) => kb(s.stats.blockIo.writeBytesPerSec)),
          }}
        />
      </Flex>
    </>
  );
}

const COLORS = ['#0066cc', '#c9190b'];

/** One small time-series chart; its last values are also written out, for readers and tests. */
function Chart({ title, at, series }: { title: string; at: number[]; series: Record<string, number[]> }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = Object.keys(series);
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width: 280,
        height: 140,
        legend: { show: false },
        series: [{}, ...names.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length] }))],
        axes: [{ show: false }, { size: 40 }],
      },
      [[], ...names.map(() => [])],
      box.current,
    );
    return () => plot.current?.destroy();
    // The series' names are fixed for a chart's life.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    plot.current?.setData([at, ...names.map((n) => series[n] ?? [])]);
  });
  const last = names.map((n) => `${n} ${Math.round(series[n]?.at(-1) ?? 0)}`).join(', ');
  return (
    <FlexItem>
      <Title headingLevel="h3" size="md">
        {title}
      </Title>
      <div ref={box} role="img" aria-label={`${title}: ${last}`} />
      <span data-testid={`chart-${title}`}>{last}</span>
    </FlexItem>
  );
}
