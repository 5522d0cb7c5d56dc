import type { DataSource, EntityManager } from 'typeorm';
import { FlavorEntity } from '../entities/catalog.entity';
import { deleteEntity, insertEntity } from '../entities/rows';
import { aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { deleteImage, insertImage, visibleImage, visibleImages, type NewImage } from './images';

/** Images against real PostgreSQL, and the entity writes the catalog uses (insertEntity, deleteEntity). */
describe('images and catalog entries (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;
  let otherProject: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);
  const image = (name: string, owner: string | null): NewImage => ({
    name,
    kind: 'container',
    ref: `reg/${name}:${owner ? 'private' : 'public'}`,
    kernelRef: null,
    initrdRef: null,
    cmdline: null,
    projectId: owner,
  });

  beforeAll(async () => {
    db = await freshDatabase('images');
    ds = db.dataSource;
    projectId = await aProject(ds, 'images-tenant');
    otherProject = await aProject(ds, 'images-other');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('inserts an entity with its defaults filled in and deletes it by id, once', async () => {
    const flavor = await tx((m) =>
      insertEntity(m, FlavorEntity, {
        name: 'c1.test',
        vcpus: 1,
        ramMb: 128,
        diskGb: 1,
        extraSpecs: {},
        cpuPolicy: 'shared',
        throttles: {},
        limitBounds: {},
      }),
    );
    expect(flavor.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(flavor.createdAt).toBeInstanceOf(Date);
    expect(await tx((m) => deleteEntity(m, FlavorEntity, flavor.id))).toBe(true);
    expect(await tx((m) => deleteEntity(m, FlavorEntity, flavor.id))).toBe(false);
  });

  it("shows a project its own images and public ones, its own first by name, never another project's", async () => {
    const pub = await tx((m) => insertImage(m, image('alpine', null)));
    const mine = await tx((m) => insertImage(m, image('alpine', projectId)));
    const theirs = await tx((m) => insertImage(m, image('secret', otherProject)));
    expect((await visibleImage(ds.manager, 'alpine', false, projectId))?.id).toBe(mine.id);
    expect((await visibleImage(ds.manager, 'alpine', false, otherProject))?.id).toBe(pub.id);
    expect(await visibleImage(ds.manager, theirs.id, true, projectId)).toBeNull();
    expect((await visibleImages(ds.manager, projectId)).map((i) => i.id).sort()).toEqual([pub.id, mine.id].sort());
    expect((await visibleImages(ds.manager, null)).map((i) => i.id)).toContain(theirs.id);
    expect(await tx((m) => deleteImage(m, mine.id))).toBe(true);
    expect((await visibleImage(ds.manager, 'alpine', false, projectId))?.id).toBe(pub.id);
  });
});
