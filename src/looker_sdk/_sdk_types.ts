// The @looker/sdk-rtl types in LookerSdkSession's API, re-exported with docs.
import type * as Rtl from "@looker/sdk-rtl";

/** The SDK's authentication session (`@looker/sdk-rtl`'s `IAuthSession`). */
export type IAuthSession = Rtl.IAuthSession;
/** The SDK's settings (`@looker/sdk-rtl`'s `IApiSettings`). */
export type IApiSettings = Rtl.IApiSettings;
/** The SDK's transport settings (`@looker/sdk-rtl`'s `ITransportSettings`). */
export type ITransportSettings = Rtl.ITransportSettings;
/** The SDK's transport (`@looker/sdk-rtl`'s `ITransport`). */
export type ITransport = Rtl.ITransport;
/** An SDK request (`@looker/sdk-rtl`'s `IRequestProps`). */
export type IRequestProps = Rtl.IRequestProps;
/** An access token as the SDK holds it (`@looker/sdk-rtl`'s `IAccessToken`). */
export type IAccessToken = Rtl.IAccessToken;
