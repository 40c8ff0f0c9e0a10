import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { DefaultAzureCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import type { AzureDriverConfig } from '../config';

/** The public Azure Resource Manager endpoint. */
export const ARM_ENDPOINT = 'https://management.azure.com';
/** The token scope of the public Resource Manager (also sent to the emulator, which ignores it). */
const ARM_SCOPE = 'https://management.azure.com/.default';
/** Name of the SDK's bearer-token policy in `@azure/core-rest-pipeline`. */
const SDK_BEARER_POLICY = 'bearerTokenAuthenticationPolicy';

/** The two SDK clients the driver uses, sharing one credential. */
export interface AzureClients {
  readonly compute: ComputeManagementClient;
  readonly network: NetworkManagementClient;
  /** True when the endpoint is plain http (the emulator). */
  readonly plainHttp: boolean;
}

/** A credential that always returns the configured token (the emulator's test token, or one minted elsewhere). */
export function staticTokenCredential(token: string): TokenCredential {
  return {
    getToken: (): Promise<AccessToken> => Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

type Pipeline = ComputeManagementClient['pipeline'];
type PipelinePolicy = Parameters<Pipeline['addPolicy']>[0];

/**
 * The SDK's bearer policy refuses non-TLS URLs ("Bearer token authentication is not permitted for
 * non-TLS protected (non-https) URLs"); over plain http to the emulator we sign requests ourselves.
 */
function useHttpBearer(pipeline: Pipeline, credential: TokenCredential, scope: string): void {
  pipeline.removePolicy({ name: SDK_BEARER_POLICY });
  const policy: PipelinePolicy = {
    name: 'meridianHttpBearerPolicy',
    async sendRequest(request, next) {
      const token = await credential.getToken(scope, { abortSignal: request.abortSignal });
      if (!token) throw new Error('the Azure credential returned no token');
      request.headers.set('Authorization', `Bearer ${token.token}`);
      return next(request);
    },
  };
  pipeline.addPolicy(policy, { phase: 'Sign' });
}

/**
 * Builds the compute and network clients for one subscription. Credentials: `config.token` as a
 * static token, else `DefaultAzureCredential` (environment, workload identity, managed identity,
 * Azure CLI). SDK retries are off: the shared resilience layer is the only one that retries.
 */
export function createAzureClients(config: AzureDriverConfig): AzureClients {
  const endpoint = (config.endpoint ?? ARM_ENDPOINT).replace(/\/+$/, '');
  const plainHttp = endpoint.toLowerCase().startsWith('http://');
  const credential = config.token !== undefined ? staticTokenCredential(config.token) : new DefaultAzureCredential();
  // A sovereign cloud's Resource Manager (management.chinacloudapi.cn, ...) is its own token audience.
  const scope = plainHttp ? ARM_SCOPE : `${endpoint}/.default`;
  const retryOptions = { maxRetries: 0 };
  const compute = new ComputeManagementClient(credential, config.subscriptionId, {
    endpoint, retryOptions, credentials: { scopes: [scope] }, allowInsecureConnection: plainHttp,
  });
  // arm-network builds its URLs from `$host`; `endpoint` alone only changes the token scope.
  const network = new NetworkManagementClient(credential, config.subscriptionId, {
    endpoint, $host: endpoint, retryOptions, credentialScopes: scope, allowInsecureConnection: plainHttp,
  });
  if (plainHttp) {
    useHttpBearer(compute.pipeline, credential, scope);
    useHttpBearer(network.pipeline, credential, scope);
  }
  return { compute, network, plainHttp };
}
