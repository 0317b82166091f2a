/**
 * The wire constants alone, for clients: importing them pulls in neither zod
 * nor @trpc/server, so browser bundles stay small. Types still come from the
 * package root (`import type`), which costs nothing at run time.
 */
export { CloseCode, FATAL_CLOSE_CODES, FORBIDDEN_ORIGIN_HTTP_STATUS, SLOW_DOWN_CLOSE_CODES } from './core/codes';
export { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './core/version';
