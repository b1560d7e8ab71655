/**
 * The interop fixtures (test/fixtures/interop, objects written by the official OSS SDKs; see its README): the
 * manifest's vectors and the ranged-read cases, typed, with loaders that check the stored bytes against the
 * manifest's SHA-256. Shared by every test that proves a reader against those objects.
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixturePath } from '../_util.js';

/** One vector of test/fixtures/interop/manifest.json (the fields the tests use). */
export interface InteropVector {
  name: string;
  format: 'v1' | 'v2';
  wrap_alg: string;
  headers: Record<string, string>;
  ciphertext_file: string;
  ciphertext_sha256: string;
  plaintext_file?: string;
  plaintext?: { kind: 'repeat'; byte: number; length: number };
  plaintext_sha256: string;
  plaintext_length: number;
  keys: { rsa_private_pem_file?: string; rsa_public_pem_file?: string; kms_key_id?: string; kms_passphrase?: string | null };
  multipart?: { part_size: number; data_size: number; parts: number; part_lengths: number[] };
  oss_object: { etag?: string; 'x-oss-object-type'?: string; 'x-oss-hash-crc64ecma'?: string };
  /** The key material the SDK used, for known-answer checks (never printed). */
  plain_unwrap: { data_key_hex: string; iv_hex?: string; counter_start?: string; initial_counter_block_hex: string };
}

/** One case of test/fixtures/interop/ranges.json. */
export interface InteropRange {
  vector: string;
  range: string;
  start: number;
  end: number;
  expected_length: number;
  expected_sha256: string;
  content_range: string;
}

/** Absolute path of a file under test/fixtures/interop/. */
export const interopPath = (...parts: string[]): string => fixturePath('interop', ...parts);

/** The manifest's vectors. */
export function interopVectors(): InteropVector[] {
  return (JSON.parse(readFileSync(interopPath('manifest.json'), 'utf8')) as { vectors: InteropVector[] }).vectors;
}

/** The ranged-read cases. */
export function interopRanges(): InteropRange[] {
  return (JSON.parse(readFileSync(interopPath('ranges.json'), 'utf8')) as { cases: InteropRange[] }).cases;
}

/** The stored bytes of a vector, checked against the manifest's SHA-256. */
export function ciphertextOf(v: InteropVector): Buffer {
  const bytes = readFileSync(interopPath(v.ciphertext_file));
  if (sha256(bytes) !== v.ciphertext_sha256) throw new Error(`fixture ${v.ciphertext_file} does not match its sha256`);
  return bytes;
}

/** The expected plaintext of a vector. */
export function plaintextOf(v: InteropVector): Buffer {
  if (v.plaintext_file !== undefined) return readFileSync(interopPath(v.plaintext_file));
  return Buffer.alloc(v.plaintext!.length, v.plaintext!.byte);
}

/** A PEM file of the fixture set, by the path the manifest gives. */
export function fixtureKey(relative: string): string {
  return readFileSync(interopPath(relative), 'utf8');
}

/** Lower-case hex SHA-256. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
