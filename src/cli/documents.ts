/** npm run documents: prints the trusted-document manifest (sha256 hash → document) for the mobile app's build. */
import { TRUSTED_MANIFEST } from "../graphql/trusted-documents.js";

console.log(JSON.stringify(Object.fromEntries([...TRUSTED_MANIFEST].map(([hash, doc]) => [`sha256:${hash}`, doc])), null, 2));
