import { utils } from 'ssh2';
import { newSshKeyPair } from './keys';

describe('newSshKeyPair', () => {
  it('answers only pairs that read back, with a 32-byte Ed25519 public key, though ssh2 drops a byte 1 time in 256', () => {
    // 1024 draws meet ssh2's bad draw with odds 1 - (255/256)^1024, about 98%: the discard path runs.
    for (let i = 0; i < 1024; i++) {
      const pair = newSshKeyPair('berth-test');
      const pub = utils.parseKey(pair.publicKey);
      const priv = utils.parseKey(pair.privateKey);
      if (pub instanceof Error || Array.isArray(pub)) throw new Error(`unreadable public key ${pair.publicKey}`);
      if (priv instanceof Error || Array.isArray(priv)) throw new Error(`unreadable private key ${pair.privateKey}`);
      expect(priv.isPrivateKey()).toBe(true);
      // The blob: string "ssh-ed25519" (4 + 11 bytes), then string key (4 + 32 bytes).
      expect(pub.getPublicSSH().length).toBe(4 + 11 + 4 + 32);
      expect(priv.getPublicSSH().equals(pub.getPublicSSH())).toBe(true);
      expect(pair.publicKey).toMatch(/^ssh-ed25519 \S+ berth-test$/);
    }
  });
});
