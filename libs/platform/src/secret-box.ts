import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (hosts' SSH private keys): AES-256-GCM under the cloud's key (BERTH_SECRET_KEY,
 * 32 bytes in base64), a fresh nonce per secret. A sealed value is "v1.<nonce>.<tag>.<ciphertext>";
 * a changed byte, or the wrong key, fails to open.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromBase64(key: string): SecretBox {
    const raw = Buffer.from(key, 'base64');
    if (raw.length !== 32) throw new Error('the secret key must be 32 bytes in base64');
    return new SecretBox(raw);
  }

  seal(plain: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', nonce, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
      .join('.');
  }

  open(sealed: string): string {
    const [version, nonce, tag, body] = sealed.split('.');
    if (version !== 'v1' || !nonce || !tag || body === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}
