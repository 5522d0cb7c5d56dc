import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log behind GET /v1/events: a row for each change of an instance's state, an
 * operation's progress and a host's scheduling state, written by triggers so that every process
 * that changes a row (api, scheduler, agent reports, recovery) is covered without remembering to.
 *
 * `seq` is the resume token (Last-Event-ID) and must follow commit order, or a reader could see
 * seq 11 before seq 10 commits and skip 10 for good. So it is not given at insert: a deferred
 * trigger gives it at commit, under a transaction-level advisory lock held until the commit is
 * visible. Transactions that write events therefore commit them one after another, for the few
 * microseconds of the deferred trigger, and never wait for each other's earlier work.
 *
 * `event_horizon` records the highest seq the pruner removed, so a resume from before it is told
 * that history is gone (410) instead of silently missing events.
 */
export class Events1764800000000 implements MigrationInterface {
  name = 'Events1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE SEQUENCE event_seq;

      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        seq bigint UNIQUE,
        type text NOT NULL,
        project_id uuid,
        resource_type text NOT NULL,
        resource_id uuid NOT NULL,
        data jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX events_at ON events (at);

      CREATE TABLE event_horizon (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        pruned_through bigint NOT NULL
      );
      INSERT INTO event_horizon (pruned_through) VALUES (0);

      CREATE FUNCTION berth_event_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('berth.events'));
        UPDATE events SET seq = nextval('event_seq') WHERE id = NEW.id;
        PERFORM pg_notify('berth_events', '');
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER events_sequence AFTER INSERT ON events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION berth_event_sequence();

      CREATE FUNCTION berth_instance_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE kind text;
      BEGIN
        IF TG_OP = 'INSERT' THEN kind := 'instance.created';
        ELSIF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN kind := 'instance.deleted';
        ELSE kind := 'instance.updated';
        END IF;
        INSERT INTO events (type, project_id, resource_type, resource_id, data)
        VALUES (kind, NEW.project_id, 'instance', NEW.id, jsonb_build_object(
          'id', NEW.id, 'name', NEW.name, 'kind', NEW.kind, 'status', NEW.status,
          'taskState', NEW.task_state, 'powerState', NEW.power_state, 'hostId', NEW.host_id,
          'flavor', NEW.flavor_name, 'vcpus', NEW.vcpus, 'ramMb', NEW.ram_mb, 'fault', NEW.fault));
        RETURN NULL;
      END $$;
      CREATE TRIGGER instance_created AFTER INSERT ON instances
        FOR EACH ROW EXECUTE FUNCTION berth_instance_event();
      CREATE TRIGGER instance_changed AFTER UPDATE ON instances
        FOR EACH ROW WHEN (
          OLD.status IS DISTINCT FROM NEW.status OR OLD.task_state IS DISTINCT FROM NEW.task_state
          OR OLD.power_state IS DISTINCT FROM NEW.power_state OR OLD.host_id IS DISTINCT FROM NEW.host_id
          OR OLD.vcpus IS DISTINCT FROM NEW.vcpus OR OLD.ram_mb IS DISTINCT FROM NEW.ram_mb
          OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
        EXECUTE FUNCTION berth_instance_event();

      CREATE FUNCTION berth_operation_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE kind text;
      BEGIN
        IF TG_OP = 'INSERT' THEN kind := 'operation.created';
        ELSIF NEW.status <> 'running' AND OLD.status = 'running' THEN kind := 'operation.finished';
        ELSE kind := 'operation.updated';
        END IF;
        INSERT INTO events (type, project_id, resource_type, resource_id, data)
        VALUES (kind, NEW.project_id, 'operation', NEW.id, jsonb_build_object(
          'id', NEW.id, 'action', NEW.action, 'status', NEW.status, 'targetType', NEW.target_type,
          'targetId', NEW.target_id, 'requestId', NEW.request_id, 'steps', NEW.steps, 'fault', NEW.fault));
        RETURN NULL;
      END $$;
      CREATE TRIGGER operation_created AFTER INSERT ON operations
        FOR EACH ROW EXECUTE FUNCTION berth_operation_event();
      CREATE TRIGGER operation_changed AFTER UPDATE ON operations
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.steps IS DISTINCT FROM NEW.steps)
        EXECUTE FUNCTION berth_operation_event();

      CREATE FUNCTION berth_host_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO events (type, project_id, resource_type, resource_id, data)
        VALUES (CASE TG_OP WHEN 'INSERT' THEN 'host.created' ELSE 'host.updated' END, NULL, 'host', NEW.id,
          jsonb_build_object('id', NEW.id, 'name', NEW.name, 'enabled', NEW.enabled,
            'disabledReason', NEW.disabled_reason, 'zone', NEW.zone));
        RETURN NULL;
      END $$;
      CREATE TRIGGER host_created AFTER INSERT ON hosts
        FOR EACH ROW EXECUTE FUNCTION berth_host_event();
      CREATE TRIGGER host_changed AFTER UPDATE ON hosts
        FOR EACH ROW WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
          OR OLD.disabled_reason IS DISTINCT FROM NEW.disabled_reason OR OLD.zone IS DISTINCT FROM NEW.zone)
        EXECUTE FUNCTION berth_host_event();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER host_changed ON hosts;
      DROP TRIGGER host_created ON hosts;
      DROP FUNCTION berth_host_event();
      DROP TRIGGER operation_changed ON operations;
      DROP TRIGGER operation_created ON operations;
      DROP FUNCTION berth_operation_event();
      DROP TRIGGER instance_changed ON instances;
      DROP TRIGGER instance_created ON instances;
      DROP FUNCTION berth_instance_event();
      DROP TABLE event_horizon;
      DROP TABLE events;
      DROP FUNCTION berth_event_sequence();
      DROP SEQUENCE event_seq;
    `);
  }
}
