import { createKeypair, removeKeypair } from '@berth/control';
import { userKeypair, userKeypairs, type KeypairRow } from '@berth/data';
import { BerthError } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { objectAt, stringAt } from './os-body';
import { novaTime } from './os-http';
import { newKeypair, readPublicKey } from './ssh-keys';

const summary = (k: KeypairRow) => ({ name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint });

/**
 * Nova's os-keypairs: the caller's user's SSH public keys by name. A server created with key_name gets that key as
 * its authorized key. Another user's key pairs do not exist for the caller (404).
 */
@ApiExcludeController()
@Controller('compute/v2.1/os-keypairs')
export class KeypairsController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Policy('keypair:list')
  async list(@CurrentPrincipal() principal: Principal) {
    const found = await userKeypairs(this.dataSource.manager, principal.userId);
    return { keypairs: found.map((k) => ({ keypair: summary(k) })) };
  }

  /** Imports the public key given, or makes a new pair and answers its private key this once. */
  @Post()
  @Policy('keypair:create')
  @HttpCode(200)
  async create(
    @Body() body: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ) {
    objectAt(body, 'keypair');
    const name = stringAt(body, 'keypair.name', 255);
    const given = stringAt(body, 'keypair.public_key', 16_384, true);
    const made = given === undefined ? newKeypair('keypair.public_key') : null;
    const key = made?.key ?? readPublicKey(given ?? '', 'keypair.public_key');
    const privateKey = made?.privateKey ?? null;
    const keypair = await createKeypair(
      this.dataSource,
      { userId: principal.userId, name, key },
      { name: 'keypair.name' },
      actorOf(principal, requestId),
    );
    return {
      keypair: { ...summary(keypair), user_id: keypair.userId, ...(privateKey ? { private_key: privateKey } : {}) },
    };
  }

  @Get(':name')
  @Policy('keypair:list')
  async show(@Param('name') name: string, @CurrentPrincipal() principal: Principal) {
    const k = await userKeypair(this.dataSource.manager, principal.userId, name);
    if (!k) throw BerthError.notFound('key pair', name);
    return {
      keypair: {
        ...summary(k),
        user_id: k.userId,
        id: k.seq,
        created_at: novaTime(k.createdAt).replace('Z', '.000000'),
        updated_at: null,
        deleted: false,
        deleted_at: null,
      },
    };
  }

  @Delete(':name')
  @Policy('keypair:create')
  @HttpCode(202)
  async remove(
    @Param('name') name: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await removeKeypair(this.dataSource, principal.userId, name, actorOf(principal, requestId));
  }
}
