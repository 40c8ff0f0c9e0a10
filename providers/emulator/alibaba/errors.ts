/**
 * The ECS and API-gateway error codes the emulator answers with, each with the HTTP status and
 * message text Alibaba Cloud documents for it (ECS API reference, "Common error codes" of the
 * OpenAPI gateway).
 */
export const ECS_ERRORS = Object.freeze({
  // Gateway: authentication and request shape.
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidApi.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  MissingParameter: { status: 400, message: 'The input parameter that is mandatory for processing this request is not supplied.' },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
  DryRunOperation: { status: 400, message: 'Request validation has been passed with DryRun flag set.' },
  // Gateway: flow control. Both travel as HTTP 400 on the ECS endpoint.
  Throttling: { status: 400, message: 'Request was denied due to request throttling.' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  // ECS.
  'InvalidRegionId.NotFound': { status: 404, message: 'The specified RegionId does not exist.' },
  'InvalidInstanceType.NotFound': { status: 404, message: 'The specified InstanceType does not exist.' },
  'InvalidInstanceId.NotFound': { status: 404, message: 'The specified InstanceId does not exist.' },
  'InvalidResourceId.NotFound': { status: 404, message: 'The specified ResourceIds are not found in our records.' },
  'InvalidResourceType.NotFound': { status: 404, message: 'The specified ResourceType is not found.' },
  'InvalidInstanceIds.Malformed': { status: 400, message: 'The specified parameter InstanceIds is not valid.' },
  'InvalidImageId.NotFound': { status: 404, message: 'The specified ImageId does not exist.' },
  'InvalidUserData.Base64FormatInvalid': { status: 400, message: 'The specified UserData is not valid base64.' },
  'InvalidUserData.SizeExceeded': { status: 400, message: 'The specified parameter UserData exceeds the size.' },
  'InvalidTagKey.Malformed': { status: 400, message: 'The specified Tag.n.Key is not valid.' },
  'InvalidTagValue.Malformed': { status: 400, message: 'The specified Tag.n.Value is not valid.' },
  InvalidTagCount: { status: 400, message: 'The specified tags are beyond the permitted range.' },
  IdempotentParameterMismatch: { status: 400, message: 'The request uses the same client token as a previous, but non-identical request.' },
  IncorrectInstanceStatus: { status: 403, message: 'The current status of the resource does not support this operation.' },
  'OperationDenied.NoStock': { status: 403, message: 'The requested resource is sold out in the specified zone; try other types of resources or other regions and zones.' },
  'QuotaExceed.ElasticQuota': { status: 403, message: 'The number of vCPUs assigned to the ECS instances has exceeded the quota in the zone. Please sign-on to Alibaba Cloud Console, and submit a quota increase application.' },
  // Server side.
  InternalError: { status: 500, message: 'The request processing has failed due to some unknown error, exception or failure.' },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },
} as const);

/** An error code the emulator can answer with. */
export type EcsErrorCode = keyof typeof ECS_ERRORS;

/** An error answer on its way out: the code, an optional message replacing the default, extra headers. */
export class EcsFault extends Error {
  constructor(readonly code: EcsErrorCode, message?: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message ?? ECS_ERRORS[code].message);
  }

  /** The HTTP status Alibaba Cloud answers this code with. */
  get status(): number {
    return ECS_ERRORS[this.code].status;
  }
}
