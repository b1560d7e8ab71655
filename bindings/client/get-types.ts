/**
 * The response summary every decrypting read returns (ali-oss's `res` of `get`), shared by Node's get.ts and
 * the web's web-read.ts.
 *
 * Deliberately not here: any code. Types only.
 * @module
 */

/**
 * ali-oss's response summary as this client returns it.
 * @example
 *   const { res }: { res: GetResponse } = await client.get('a.bin');
 *   console.log(res.status, res.size, `${res.rt} ms`);
 */
export interface GetResponse {
  status: number;
  statusCode: number;
  headers: Record<string, any>;
  /** Bytes received (stored bytes; equal to plaintext bytes). */
  size: number;
  /** Milliseconds from sending the request to the end of the body. */
  rt: number;
  requestUrls: string[];
}
