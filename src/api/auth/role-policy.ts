import type { ApiRole } from './api-keys';

/** Routes anyone may call, with no key (docs/contract.md, "Auth"). */
export const OPEN_PREFIXES: readonly string[] = [
  '/health',
  '/metrics',
  '/openapi.json',
  '/asyncapi.json',
  '/docs',
  '/console',
];

const READS = ['GET', 'HEAD'] as const;

export interface RoleRule {
  /** Applies to this path and everything under it (whole segments: `/v1/audit` covers `/v1/audit/replay`). */
  readonly prefix: string;
  /** HTTP methods it applies to; `*` is every method. */
  readonly methods: readonly string[] | '*';
  readonly roles: readonly ApiRole[];
}

/**
 * Who may call what, as docs/contract.md says it. Rules add up: a role may call a route when any rule
 * that covers the route's method and path names it. Anything no rule grants is refused, so a new
 * /v1 route is admin-only until a rule here says otherwise.
 */
export const ROLE_POLICY: readonly RoleRule[] = [
  // operator: reads and writes accounts and transfers.
  { prefix: '/v1/accounts', methods: '*', roles: ['operator'] },
  { prefix: '/v1/transfers', methods: '*', roles: ['operator'] },
  // auditor: every GET, and the audit routes.
  { prefix: '/v1', methods: READS, roles: ['auditor'] },
  { prefix: '/v1/audit', methods: '*', roles: ['auditor'] },
  // analyst: every GET, and the fraud routes (reviews, dead letters); never posts money.
  { prefix: '/v1', methods: READS, roles: ['analyst'] },
  { prefix: '/v1/fraud', methods: '*', roles: ['analyst'] },
  // admin: everything.
  { prefix: '/', methods: '*', roles: ['admin'] },
];

export const underPrefix = (path: string, prefix: string): boolean =>
  prefix === '/' ||
  path === prefix ||
  path.startsWith(`${prefix}/`) ||
  (prefix.endsWith('/') && path.startsWith(prefix));

export const isOpenRoute = (path: string): boolean => OPEN_PREFIXES.some((prefix) => underPrefix(path, prefix));

/** Whether `role` may call `method path` (`path` is the route's pattern, e.g. `/v1/accounts/:id`). */
export function mayCall(
  role: ApiRole,
  method: string,
  path: string,
  policy: readonly RoleRule[] = ROLE_POLICY,
): boolean {
  const upper = method.toUpperCase();
  return policy.some(
    (rule) =>
      rule.roles.includes(role) &&
      (rule.methods === '*' || rule.methods.includes(upper)) &&
      underPrefix(path, rule.prefix),
  );
}
