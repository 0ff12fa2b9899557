import { fileURLToPath } from 'node:url';

// This module sits one level below the root in a checkout (controller/), in the tsc build
// (dist/controller/) and, bundled, in the image (dist/kurier.mjs): '../' minus a trailing dist/.
const ROOT = fileURLToPath(new URL('../', import.meta.url)).replace(/dist\/$/, '');

/** The templates/ folder shipped with this checkout or image. */
export const SHIPPED_TEMPLATES = `${ROOT}templates`;

/** The crd.yaml shipped with this checkout or image. */
export const SHIPPED_CRD = `${ROOT}crd.yaml`;
