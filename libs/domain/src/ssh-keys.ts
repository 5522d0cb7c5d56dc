/** An SSH key pair in OpenSSH's formats: the public key line and the private key (no passphrase). */
export interface SshKeyPair {
  publicKey: string;
  privateKey: string;
}
