import { deleteKeypair, insertKeypair, insertOperation, type Actor, type KeypairRow } from '@berth/data';
import { BerthError } from '@berth/domain';
import type { DataSource } from 'typeorm';

/** Nova's rule for a key pair's name: letters, digits, spaces, "-", "_" and ".", 1 to 255 of them. */
export const KEYPAIR_NAME = /^[A-Za-z0-9 _.-]{1,255}$/;

/** How the caller's body names the fields, for the errors that name them. */
export interface KeypairFields {
  name: string;
  publicKey: string;
}

/**
 * Adds a key pair of the user's, its public key already read (the API's ssh-keys: a key given, or a new pair whose
 * private key only the caller sees). The name is the user's own (409 unique when taken). On record as an operation.
 */
export async function createKeypair(
  dataSource: DataSource,
  request: { userId: string; name: string; key: { publicKey: string; fingerprint: string } },
  fields: Pick<KeypairFields, 'name'>,
  actor: Actor,
): Promise<KeypairRow> {
  if (!KEYPAIR_NAME.test(request.name)) {
    const message = `${fields.name} must be 1 to 255 letters, digits, spaces, "-", "_" or "."`;
    throw BerthError.invalid([{ field: fields.name, rule: 'pattern', message }]);
  }
  return dataSource.transaction(async (m) => {
    const made = await insertKeypair(m, { userId: request.userId, name: request.name, ...request.key });
    if (!made) throw BerthError.conflict(`a key pair named ${request.name} exists already`, fields.name, 'unique');
    await insertOperation(m, actor, {
      action: 'keypair.create',
      targetType: 'keypair',
      targetId: made.id,
      finished: true,
    });
    return made;
  });
}

/** Removes a key pair of the user's; instances built with it keep their copy of the key. */
export async function removeKeypair(dataSource: DataSource, userId: string, name: string, actor: Actor): Promise<void> {
  await dataSource.transaction(async (m) => {
    if (!(await deleteKeypair(m, userId, name))) throw BerthError.notFound('key pair', name);
    await insertOperation(m, actor, {
      action: 'keypair.delete',
      targetType: 'keypair',
      targetId: userId,
      finished: true,
    });
  });
}
