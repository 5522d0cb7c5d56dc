import { Gallery, PageSection, Title } from '@patternfly/react-core';
import { CapacityCard } from '../components/peak/CapacityCard';
import { DryRunCard } from '../components/peak/DryRunCard';
import { PrewarmCard } from '../components/peak/PrewarmCard';
import { ReservationsCard } from '../components/peak/ReservationsCard';

/** Preparing a peak (the cloud admin's): what fits and where, room held for it, images pulled ahead. */
export function PeakPage() {
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Peak preparation</Title>
      </PageSection>
      <PageSection>
        <Gallery hasGutter minWidths={{ default: '100%', xl: '48%' }}>
          <CapacityCard />
          <DryRunCard />
          <ReservationsCard />
          <PrewarmCard />
        </Gallery>
      </PageSection>
    </>
  );
}
