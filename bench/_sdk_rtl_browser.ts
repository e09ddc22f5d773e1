// The reference for the browser example's script: what a page needs from the
// official Looker SDK runtime to sign in the same way (OAuthSession, the
// BrowserTransport it sends with, and the BrowserCryptoHash it makes the PKCE
// challenge with). bench/run.ts bundles it like examples/browser/app.ts.
export {
  BrowserCryptoHash,
  BrowserTransport,
  OAuthSession,
} from "@looker/sdk-rtl";
