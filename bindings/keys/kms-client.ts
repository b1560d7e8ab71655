/**
 * The KMS client contract of the KMS key wrapper ({@link KmsClient}: Encrypt, Decrypt, GenerateDataKey in a
 * minimal shape of our own) and its default implementation over `@alicloud/kms20160120`, whose module is loaded
 * on first use so that an injected client needs no SDK.
 *
 * Deliberately not here: retries and failure wording (kms-failure.ts), the wrap format (kms.ts).
 * @module
 */
import { describe } from '../util/describe.js';

/**
 * The three KMS calls this wrapper makes, in a minimal shape of our own (plain objects, camelCase, the
 * EncryptionContext always as one JSON string or absent). The default implementation drives
 * `@alicloud/kms20160120` ({@link kmsClientFromSdk}); inject your own to use another transport, a mock, or a
 * differently configured SDK client.
 *
 * To report a failure, throw an error with `code` (KMS's code, e.g. `Forbidden.KeyNotFound`; the SDK's
 * `<Code>Error` form is understood too), and where known `statusCode` (or `status`) and `requestId` (or
 * `data.RequestId`). Errors with status >= 500, throttling codes, or network codes (`ECONNRESET`, ...) are
 * retried.
 * @example
 *   const client: KmsClient = {
 *     encrypt: async ({ keyId, plaintext, encryptionContext }) => myKms.encrypt(keyId, plaintext, encryptionContext),
 *     decrypt: async ({ ciphertextBlob, encryptionContext }) => myKms.decrypt(ciphertextBlob, encryptionContext),
 *     generateDataKey: async (r) => myKms.generateDataKey(r.keyId, r.numberOfBytes, r.encryptionContext),
 *   };
 *   const wrapper = kmsKeyWrapper({ keyId: 'cmk-id', client });
 */
export interface KmsClient {
  encrypt(request: { keyId: string; plaintext: string; encryptionContext?: string }): Promise<KmsCiphertext>;
  decrypt(request: { ciphertextBlob: string; encryptionContext?: string }): Promise<KmsPlaintext>;
  generateDataKey(request: {
    keyId: string;
    keySpec: 'AES_256';
    numberOfBytes: number;
    encryptionContext?: string;
  }): Promise<KmsCiphertext & { plaintext: string }>;
}

/**
 * What Encrypt (and GenerateDataKey) answer.
 * @example
 *   const answer: KmsCiphertext = { ciphertextBlob: r.CiphertextBlob, keyId: r.KeyId, requestId: r.RequestId };
 */
export interface KmsCiphertext {
  ciphertextBlob: string;
  keyId?: string;
  requestId?: string;
}

/**
 * What Decrypt answers: `plaintext` is the base64 text KMS returns (of the key or IV; V1 start: decimal text).
 * @example
 *   const answer: KmsPlaintext = { plaintext: r.Plaintext, keyId: r.KeyId, requestId: r.RequestId };
 */
export interface KmsPlaintext {
  plaintext: string;
  keyId?: string;
  requestId?: string;
}

/**
 * The settings of the default SDK client: credentials plus where KMS is.
 * @example
 *   const settings: KmsSdkSettings = { accessKeyId, accessKeySecret, region: 'cn-hangzhou' };
 */
export interface KmsSdkSettings {
  /** KMS region, e.g. `cn-hangzhou`; picks the default endpoint. Required unless `endpoint` (or, for the wrapper, `client`) is given. */
  region?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** STS security token, when the access key is a temporary one. */
  securityToken?: string;
  /** KMS host (`host` or `host:port`, no scheme). Default `kms.<region>.aliyuncs.com`. */
  endpoint?: string;
  /** Default `https`. `http` only for a loopback stand-in. */
  protocol?: 'https' | 'http';
}

/**
 * A {@link KmsClient} over an existing `@alicloud/kms20160120` client instance (for custom timeouts, proxies,
 * credential providers...). The SDK module is loaded on first use.
 * @param sdk an instance of the SDK's default export (`new Kms(config)`)
 * @example
 *   // Kms = the SDK's default export (from ESM: `(await import('@alicloud/kms20160120')).default.default`)
 *   const sdk = new Kms({ accessKeyId, accessKeySecret, regionId: 'cn-hangzhou', readTimeout: 5000 });
 *   const wrapper = kmsKeyWrapper({ keyId, client: kmsClientFromSdk(sdk) });
 */
export function kmsClientFromSdk(sdk: KmsSdkClient): KmsClient {
  if (sdk === null || typeof sdk !== 'object' || typeof sdk.encrypt !== 'function' || typeof sdk.decrypt !== 'function') {
    throw new TypeError(`"sdk" expected an @alicloud/kms20160120 client, got ${describe(sdk)}`);
  }
  return adaptSdk(async () => sdk);
}

/**
 * The part of an `@alicloud/kms20160120` client instance that {@link kmsClientFromSdk} uses.
 * @example
 *   const sdk: KmsSdkClient = new Kms({ accessKeyId, accessKeySecret, regionId: 'cn-hangzhou', endpoint: 'kms.cn-hangzhou.aliyuncs.com' });
 *   const client = kmsClientFromSdk(sdk);
 */
export interface KmsSdkClient {
  encrypt(request: unknown): Promise<{ ciphertextBlob?: string; keyId?: string; requestId?: string }>;
  decrypt(request: unknown): Promise<{ plaintext?: string; keyId?: string; requestId?: string }>;
  generateDataKey(request: unknown): Promise<{ ciphertextBlob?: string; plaintext?: string; keyId?: string; requestId?: string }>;
}

/**
 * The default client: `@alicloud/kms20160120`, created on first use so that an injected client needs no SDK.
 * @param options credentials, region or endpoint, protocol
 * @throws {TypeError} when credentials or region/endpoint are missing or mistyped
 * @throws {RangeError} when `protocol` is neither `https` nor `http`
 * @example
 *   const client = sdkClientFromSettings({ accessKeyId, accessKeySecret, region: 'cn-hangzhou' });
 */
export function sdkClientFromSettings(options: KmsSdkSettings): KmsClient {
  const accessKeyId = optionalString('accessKeyId', options.accessKeyId);
  const accessKeySecret = optionalString('accessKeySecret', options.accessKeySecret);
  const securityToken = optionalString('securityToken', options.securityToken);
  const region = optionalString('region', options.region);
  const endpoint = optionalString('endpoint', options.endpoint);
  const protocol = options.protocol ?? 'https';
  if (!accessKeyId || !accessKeySecret) {
    throw new TypeError('kmsKeyWrapper needs "accessKeyId" and "accessKeySecret" (plus "securityToken" for STS), or an injected "client"');
  }
  if (!region && !endpoint) throw new TypeError('kmsKeyWrapper needs "region" (e.g. "cn-hangzhou") or "endpoint"');
  if (protocol !== 'https' && protocol !== 'http') throw new RangeError(`"protocol" expected "https" or "http", got ${JSON.stringify(protocol)}`);
  if (endpoint !== undefined && /^[a-z]+:\/\//i.test(endpoint)) {
    throw new TypeError(`"endpoint" expected a host or host:port without a scheme (use "protocol"), got ${JSON.stringify(endpoint)}`);
  }
  const config = {
    accessKeyId,
    accessKeySecret,
    ...(securityToken ? { securityToken } : {}),
    regionId: region ?? '',
    endpoint: endpoint ?? `kms.${region}.aliyuncs.com`,
    protocol: protocol.toUpperCase(),
  };
  let client: Promise<KmsSdkClient> | undefined;
  return adaptSdk(() => {
    client ??= loadSdk().then((sdk) => new sdk.Client(config) as unknown as KmsSdkClient);
    return client;
  });
}

interface SdkModule {
  Client: new (config: Record<string, unknown>) => unknown;
  EncryptRequest: new (map: Record<string, unknown>) => unknown;
  DecryptRequest: new (map: Record<string, unknown>) => unknown;
  GenerateDataKeyRequest: new (map: Record<string, unknown>) => unknown;
}

let sdkModule: Promise<SdkModule> | undefined;

function loadSdk(): Promise<SdkModule> {
  sdkModule ??= import('@alicloud/kms20160120').then((mod) => {
    // A CommonJS module: from ESM its `exports` object is the default import, the class is `exports.default`.
    const m = mod as unknown as Record<string, unknown> & { default?: Record<string, unknown> };
    const exportsObject = (m.default ?? m) as Record<string, unknown>;
    const pick = (name: string) => (m[name] ?? exportsObject[name]) as new (x: Record<string, unknown>) => unknown;
    return {
      Client: (exportsObject.default ?? m.default) as unknown as SdkModule['Client'],
      EncryptRequest: pick('EncryptRequest'),
      DecryptRequest: pick('DecryptRequest'),
      GenerateDataKeyRequest: pick('GenerateDataKeyRequest'),
    };
  });
  return sdkModule;
}

function adaptSdk(getClient: () => Promise<KmsSdkClient>): KmsClient {
  return {
    async encrypt(request) {
      const [sdk, client] = await Promise.all([loadSdk(), getClient()]);
      // The context goes as one JSON string (EncryptionContext={...}), the documented wire form oss2 uses;
      // a map would be flattened into EncryptionContext.<k>=<v> parameters.
      const r = await client.encrypt(new sdk.EncryptRequest({ ...request }));
      return { ciphertextBlob: r.ciphertextBlob ?? '', keyId: r.keyId, requestId: r.requestId };
    },
    async decrypt(request) {
      const [sdk, client] = await Promise.all([loadSdk(), getClient()]);
      const r = await client.decrypt(new sdk.DecryptRequest({ ...request }));
      return { plaintext: r.plaintext as string, keyId: r.keyId, requestId: r.requestId };
    },
    async generateDataKey(request) {
      const [sdk, client] = await Promise.all([loadSdk(), getClient()]);
      const r = await client.generateDataKey(new sdk.GenerateDataKeyRequest({ ...request }));
      return { ciphertextBlob: r.ciphertextBlob ?? '', plaintext: r.plaintext as string, keyId: r.keyId, requestId: r.requestId };
    },
  };
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`"${name}" expected a string, got ${describe(value)}`);
  return value;
}
