/**
 * The operator console's pages, server-rendered with Hono JSX (escaped by default). No script
 * and no inline style: the CSP is `default-src 'none'; style-src 'self'`, and every write is a
 * plain form POST carrying the session's CSRF token.
 */
import type { Child } from "hono/jsx";
import type { AdminUserView } from "../accounts/directory";
import type { InviteBatchDetail, InviteBatchSummary } from "../accounts/invite-batches";
import type { AuditEntry } from "../audit/query";
import { LICENSE_STATUSES } from "../db/schema";
import type { AdminActivationView } from "../licenses/machines";
import type { AdminLicenseView } from "../licenses/search";
import type { LaunchDay, LaunchMetrics } from "../metrics/dashboard";
import type { AdminOrgView } from "../orgs/directory";
import { CountChart, RateChart } from "./charts";

export const CSS_PATH = "/admin/console.css";

const NAV = [
	["/admin/dashboard", "Dashboard"],
	["/admin/licenses", "Licenses"],
	["/admin/users", "Users"],
	["/admin/orgs", "Organisations"],
	["/admin/activations", "Activations"],
	["/admin/audit", "Audit log"],
	["/admin/invites", "Invites"],
] as const;

type Filters = Record<string, string | undefined>;

function Page({ title, children }: { title: string; children: Child }) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="referrer" content="no-referrer" />
				<title>{`${title} · CODITECT console`}</title>
				<link rel="stylesheet" href={CSS_PATH} />
			</head>
			<body>{children}</body>
		</html>
	);
}

/** Every signed-in page: the navigation, a logout button, the content. */
export function Layout({
	title,
	csrf,
	current,
	children,
}: {
	title: string;
	csrf: string;
	current: string;
	children: Child;
}) {
	return (
		<Page title={title}>
			<header>
				<strong>CODITECT console</strong>
				<nav>
					{NAV.map(([href, label]) => (
						<a href={href} class={href === current ? "current" : undefined}>
							{label}
						</a>
					))}
				</nav>
				<form method="post" action="/admin/logout" class="logout">
					<input type="hidden" name="csrf" value={csrf} />
					<button type="submit">Log out</button>
				</form>
			</header>
			<main>
				<h1>{title}</h1>
				{children}
			</main>
		</Page>
	);
}

export function LoginPage({ error }: { error?: string | undefined }) {
	return (
		<Page title="Sign in">
			<main class="login">
				<h1>CODITECT operator console</h1>
				{error ? <p class="error">{error}</p> : null}
				<form method="post" action="/admin/login">
					<label>
						Operator token (ADMIN_TOKEN)
						<input
							type="password"
							name="token"
							autocomplete="off"
							required
							maxlength={512}
							autofocus
						/>
					</label>
					<button type="submit">Sign in</button>
				</form>
				<p class="hint">
					The token is checked once and exchanged for a 30-minute session cookie; it is not kept in
					the browser.
				</p>
			</main>
		</Page>
	);
}

export function ErrorPage({ status, message }: { status: number; message: string }) {
	return (
		<Page title={`Error ${status}`}>
			<main>
				<h1>{`Error ${status}`}</h1>
				<p class="error">{message}</p>
				<p>
					<a href="/admin/dashboard">Back to the console</a>
				</p>
			</main>
		</Page>
	);
}

const pct = (r: number | null) => (r === null ? "–" : `${Math.round(r * 100)} %`);
const when = (iso: string | null) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "–");

export function DashboardPage({
	csrf,
	metrics,
	days,
}: {
	csrf: string;
	metrics: LaunchMetrics;
	days: LaunchDay[];
}) {
	return (
		<Layout title="Launch dashboard" csrf={csrf} current="/admin/dashboard">
			<p class="hint">{`Last 30 days (${when(metrics.since)} – ${when(metrics.until)}), UTC.`}</p>
			<dl class="figures">
				<div>
					<dt>Signups</dt>
					<dd id="fig-signups">{metrics.signups}</dd>
				</div>
				<div>
					<dt>Verified users</dt>
					<dd>{metrics.verified_users}</dd>
				</div>
				<div>
					<dt>Activation rate</dt>
					<dd id="fig-activation">{pct(metrics.licenses.activation_rate)}</dd>
				</div>
				<div>
					<dt>Payment success</dt>
					<dd id="fig-payment">{pct(metrics.checkouts.success_rate)}</dd>
				</div>
				<div>
					<dt>Validations</dt>
					<dd>{metrics.validations}</dd>
				</div>
				<div>
					<dt>Failed logins / lockouts</dt>
					<dd>{`${metrics.failed_logins} / ${metrics.lockouts}`}</dd>
				</div>
			</dl>
			<CountChart id="chart-signups" title="Signups per day" days={days} value={(d) => d.signups} />
			<RateChart
				id="chart-activation"
				title="Activation rate (licenses created that day, activated since)"
				days={days}
				rate={(d) => d.activation_rate}
				detail={(d) => `${d.licenses_activated} of ${d.licenses_created}`}
			/>
			<RateChart
				id="chart-payment"
				title="Payment success (checkouts started that day, paid since)"
				days={days}
				rate={(d) => d.success_rate}
				detail={(d) => `${d.checkouts_completed} of ${d.checkouts_started}`}
			/>
		</Layout>
	);
}

/** A GET form whose empty fields the server ignores. */
function SearchForm({ action, children }: { action: string; children: Child }) {
	return (
		<form method="get" action={action} class="search">
			{children}
			<button type="submit">Search</button>
		</form>
	);
}

function Field({
	name,
	label,
	filters,
	type = "text",
}: {
	name: string;
	label: string;
	filters: Filters;
	type?: string;
}) {
	return (
		<label>
			{label}
			<input type={type} name={name} value={filters[name] ?? ""} />
		</label>
	);
}

/** "Next page" keeps the filters and adds the cursor. */
function Pager({ path, filters, next }: { path: string; filters: Filters; next: string | null }) {
	if (!next) return null;
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(filters)) if (v && k !== "cursor") q.set(k, v);
	q.set("cursor", next);
	return (
		<p class="pager">
			<a href={`${path}?${q}`} rel="next">
				Next page →
			</a>
		</p>
	);
}

function Empty({ rows, children }: { rows: unknown[]; children: Child }) {
	return rows.length === 0 ? (
		<p class="empty">Nothing matches.</p>
	) : (
		<div class="rows">{children}</div>
	);
}

export function LicensesPage({
	csrf,
	filters,
	licenses,
	next,
}: {
	csrf: string;
	filters: Filters;
	licenses: AdminLicenseView[];
	next: string | null;
}) {
	return (
		<Layout title="Licenses" csrf={csrf} current="/admin/licenses">
			<SearchForm action="/admin/licenses">
				<Field name="email" label="Owner email contains" filters={filters} />
				<Field name="key_last4" label="Key last 4" filters={filters} />
				<label>
					Status
					<select name="status">
						<option value="">any</option>
						{LICENSE_STATUSES.map((s) => (
							<option value={s} selected={filters.status === s}>
								{s}
							</option>
						))}
					</select>
				</label>
				<Field name="plan" label="Plan" filters={filters} />
				<Field name="stripe_customer_id" label="Stripe customer" filters={filters} />
				<Field name="stripe_subscription_id" label="Stripe subscription" filters={filters} />
			</SearchForm>
			<Empty rows={licenses}>
				<table id="licenses">
					<thead>
						<tr>
							<th>License</th>
							<th>Key</th>
							<th>Plan</th>
							<th>Status</th>
							<th>Owner</th>
							<th>Limit</th>
							<th>Expires</th>
							<th>Created</th>
						</tr>
					</thead>
					<tbody>
						{licenses.map((l) => (
							<tr>
								<td>
									<a href={`/admin/licenses/${l.id}`}>{l.id}</a>
								</td>
								<td>{`…${l.key_last4}`}</td>
								<td>{l.plan}</td>
								<td class={`status-${l.status}`}>{l.status}</td>
								<td>{l.owner?.email ?? l.owner_email ?? "–"}</td>
								<td>{l.max_activations}</td>
								<td>{when(l.expires_at)}</td>
								<td>{when(l.created_at)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</Empty>
			<Pager path="/admin/licenses" filters={filters} next={next} />
		</Layout>
	);
}

export function LicenseDetailPage({
	csrf,
	license,
	activations,
	events,
	saved,
}: {
	csrf: string;
	license: AdminLicenseView;
	activations: AdminActivationView[];
	events: AuditEntry[];
	saved: boolean;
}) {
	const owner = license.owner?.email ?? license.owner_email ?? "";
	return (
		<Layout title={`License ${license.id}`} csrf={csrf} current="/admin/licenses">
			{saved ? <p class="notice">Saved. The change is in the audit log below.</p> : null}
			<dl class="facts">
				<dt>Key</dt>
				<dd>{`…${license.key_last4}`}</dd>
				<dt>Status</dt>
				<dd class={`status-${license.status}`}>{license.status}</dd>
				<dt>Source</dt>
				<dd>{license.source}</dd>
				<dt>Organisation</dt>
				<dd>{license.org_id ?? "–"}</dd>
				<dt>Stripe</dt>
				<dd>{`${license.stripe_customer_id ?? "–"} / ${license.stripe_subscription_id ?? "–"}`}</dd>
				<dt>Created</dt>
				<dd>{when(license.created_at)}</dd>
			</dl>
			<h2>Edit</h2>
			<form method="post" action={`/admin/licenses/${license.id}`} class="edit" id="edit-license">
				<input type="hidden" name="csrf" value={csrf} />
				<label>
					Plan
					<input type="text" name="plan" value={license.plan} required maxlength={32} />
				</label>
				<label>
					Activation limit
					<input
						type="number"
						name="max_activations"
						value={String(license.max_activations)}
						min="0"
						max="100000"
						required
					/>
				</label>
				<label>
					Expires (ISO 8601, empty = never)
					<input type="text" name="expires_at" value={license.expires_at ?? ""} maxlength={40} />
				</label>
				<label>
					Owner email (empty = unowned)
					<input type="email" name="owner_email" value={owner} maxlength={254} />
				</label>
				<button type="submit">Save</button>
			</form>
			<h2>Status</h2>
			<div class="actions">
				{(
					[
						["suspend", "Suspend", license.status !== "suspended" && license.status !== "revoked"],
						["reinstate", "Reinstate", license.status === "suspended"],
						["revoke", "Revoke (permanent)", license.status !== "revoked"],
					] as const
				).map(([action, label, enabled]) =>
					enabled ? (
						<form method="post" action={`/admin/licenses/${license.id}/${action}`}>
							<input type="hidden" name="csrf" value={csrf} />
							<button type="submit" class={action === "revoke" ? "danger" : undefined}>
								{label}
							</button>
						</form>
					) : null,
				)}
			</div>
			<h2>Activations</h2>
			<ActivationsTable activations={activations} />
			<h2>Audit log</h2>
			<AuditTable events={events} />
			<p>
				<a href={`/admin/audit?license_id=${license.id}`}>All of this license's events →</a>
			</p>
		</Layout>
	);
}

function ActivationsTable({ activations }: { activations: AdminActivationView[] }) {
	return (
		<Empty rows={activations}>
			<table id="activations">
				<thead>
					<tr>
						<th>Activation</th>
						<th>License</th>
						<th>Hardware id</th>
						<th>Host</th>
						<th>Platform</th>
						<th>Created</th>
						<th>Last validated</th>
						<th>Freed</th>
					</tr>
				</thead>
				<tbody>
					{activations.map((a) => (
						<tr>
							<td>{a.id}</td>
							<td>
								<a href={`/admin/licenses/${a.license_id}`}>{a.license_id}</a>
							</td>
							<td class="mono">{`${a.hardware_id.slice(0, 12)}…`}</td>
							<td>{a.hostname ?? "–"}</td>
							<td>{a.platform ?? "–"}</td>
							<td>{when(a.created_at)}</td>
							<td>{when(a.last_validated_at)}</td>
							<td>{when(a.deactivated_at)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</Empty>
	);
}

function AuditTable({ events }: { events: AuditEntry[] }) {
	return (
		<Empty rows={events}>
			<table id="audit">
				<thead>
					<tr>
						<th>At</th>
						<th>Action</th>
						<th>Result</th>
						<th>User</th>
						<th>License</th>
						<th>IP</th>
						<th>Detail</th>
					</tr>
				</thead>
				<tbody>
					{events.map((e) => (
						<tr data-action={e.action}>
							<td>{when(e.at)}</td>
							<td>{e.action}</td>
							<td>{e.result}</td>
							<td>{e.user_id ?? "–"}</td>
							<td>
								{e.license_id ? (
									<a href={`/admin/licenses/${e.license_id}`}>{e.license_id}</a>
								) : (
									"–"
								)}
							</td>
							<td>{e.ip ?? "–"}</td>
							<td class="mono">{e.detail ? JSON.stringify(e.detail) : ""}</td>
						</tr>
					))}
				</tbody>
			</table>
		</Empty>
	);
}

export function UsersPage(p: {
	csrf: string;
	filters: Filters;
	users: AdminUserView[];
	next: string | null;
}) {
	return (
		<Layout title="Users" csrf={p.csrf} current="/admin/users">
			<SearchForm action="/admin/users">
				<Field name="email" label="Email contains" filters={p.filters} />
				<Field name="stripe_customer_id" label="Stripe customer" filters={p.filters} />
			</SearchForm>
			<Empty rows={p.users}>
				<table id="users">
					<thead>
						<tr>
							<th>User</th>
							<th>Email</th>
							<th>Verified</th>
							<th>Sign-in</th>
							<th>Stripe customer</th>
							<th>Locked until</th>
							<th>Licenses</th>
							<th>Created</th>
						</tr>
					</thead>
					<tbody>
						{p.users.map((u) => (
							<tr>
								<td>
									<a href={`/admin/audit?user_id=${u.id}`}>{u.id}</a>
								</td>
								<td>
									<a href={`/admin/licenses?email=${encodeURIComponent(u.email)}`}>{u.email}</a>
								</td>
								<td>{when(u.email_verified_at)}</td>
								<td>
									{[u.has_password ? "password" : null, u.oauth_provider]
										.filter(Boolean)
										.join(", ") || "–"}
								</td>
								<td>{u.stripe_customer_id ?? "–"}</td>
								<td>{when(u.locked_until)}</td>
								<td>{u.licenses}</td>
								<td>{when(u.created_at)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</Empty>
			<Pager path="/admin/users" filters={p.filters} next={p.next} />
		</Layout>
	);
}

export function OrgsPage(p: {
	csrf: string;
	filters: Filters;
	orgs: AdminOrgView[];
	next: string | null;
}) {
	return (
		<Layout title="Organisations" csrf={p.csrf} current="/admin/orgs">
			<SearchForm action="/admin/orgs">
				<Field name="name" label="Name contains" filters={p.filters} />
			</SearchForm>
			<Empty rows={p.orgs}>
				<table id="orgs">
					<thead>
						<tr>
							<th>Organisation</th>
							<th>Name</th>
							<th>Members</th>
							<th>Licenses</th>
							<th>Created</th>
						</tr>
					</thead>
					<tbody>
						{p.orgs.map((o) => (
							<tr>
								<td>{o.id}</td>
								<td>{o.name}</td>
								<td>{o.members}</td>
								<td>
									{o.license_ids.map((id) => (
										<a href={`/admin/licenses/${id}`}>{id} </a>
									))}
								</td>
								<td>{when(o.created_at)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</Empty>
			<Pager path="/admin/orgs" filters={p.filters} next={p.next} />
		</Layout>
	);
}

export function ActivationsPage(p: {
	csrf: string;
	filters: Filters;
	activations: AdminActivationView[];
	next: string | null;
}) {
	return (
		<Layout title="Activations" csrf={p.csrf} current="/admin/activations">
			<SearchForm action="/admin/activations">
				<Field name="license_id" label="License" filters={p.filters} />
				<Field name="hardware_id" label="Hardware id" filters={p.filters} />
				<label>
					Seat
					<select name="active">
						<option value="">any</option>
						<option value="true" selected={p.filters.active === "true"}>
							held
						</option>
						<option value="false" selected={p.filters.active === "false"}>
							freed
						</option>
					</select>
				</label>
			</SearchForm>
			<ActivationsTable activations={p.activations} />
			<Pager path="/admin/activations" filters={p.filters} next={p.next} />
		</Layout>
	);
}

export function AuditPage(p: {
	csrf: string;
	filters: Filters;
	events: AuditEntry[];
	next: string | null;
}) {
	return (
		<Layout title="Audit log" csrf={p.csrf} current="/admin/audit">
			<SearchForm action="/admin/audit">
				<Field name="action" label="Action" filters={p.filters} />
				<Field name="result" label="Result" filters={p.filters} />
				<Field name="user_id" label="User" filters={p.filters} />
				<Field name="license_id" label="License" filters={p.filters} />
				<Field name="since" label="Since (ISO 8601)" filters={p.filters} />
				<Field name="until" label="Until (ISO 8601)" filters={p.filters} />
			</SearchForm>
			<AuditTable events={p.events} />
			<Pager path="/admin/audit" filters={p.filters} next={p.next} />
		</Layout>
	);
}

export function InvitesPage(p: {
	csrf: string;
	batches: InviteBatchSummary[];
	next: string | null;
	created?: { batch_id: string; label: string | null; codes: string[] } | undefined;
}) {
	return (
		<Layout title="Invites" csrf={p.csrf} current="/admin/invites">
			{p.created ? (
				<section class="notice" id="new-codes">
					<h2>{`New batch ${p.created.label ?? p.created.batch_id}`}</h2>
					<p>
						These codes are shown this once: copy them now. Only their last 4 characters are kept.
					</p>
					<pre>{p.created.codes.join("\n")}</pre>
				</section>
			) : null}
			<form method="post" action="/admin/invites" class="edit" id="create-invites">
				<input type="hidden" name="csrf" value={p.csrf} />
				<label>
					How many
					<input type="number" name="count" value="10" min="1" max="100" required />
				</label>
				<label>
					Label
					<input type="text" name="label" maxlength={100} />
				</label>
				<button type="submit">Create invites</button>
			</form>
			<Empty rows={p.batches}>
				<table id="batches">
					<thead>
						<tr>
							<th>Batch</th>
							<th>Label</th>
							<th>Used</th>
							<th>Created</th>
						</tr>
					</thead>
					<tbody>
						{p.batches.map((b) => (
							<tr>
								<td>
									<a href={`/admin/invites/${b.id}`}>{b.id}</a>
								</td>
								<td>{b.label ?? "–"}</td>
								<td>{`${b.used} of ${b.codes}`}</td>
								<td>{when(b.created_at)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</Empty>
			<Pager path="/admin/invites" filters={{}} next={p.next} />
		</Layout>
	);
}

export function InviteBatchPage({ csrf, batch }: { csrf: string; batch: InviteBatchDetail }) {
	return (
		<Layout title={`Invite batch ${batch.label ?? batch.id}`} csrf={csrf} current="/admin/invites">
			<p>{`${batch.used} of ${batch.codes} codes used. Created ${when(batch.created_at)}.`}</p>
			<table id="codes">
				<thead>
					<tr>
						<th>Code</th>
						<th>Used by</th>
						<th>Used at</th>
					</tr>
				</thead>
				<tbody>
					{batch.invites.map((i) => (
						<tr>
							<td class="mono">{i.code_last4 ? `INV-…-${i.code_last4}` : "–"}</td>
							<td>
								{i.used_by ? (
									<a href={`/admin/licenses?email=${encodeURIComponent(i.used_by.email)}`}>
										{i.used_by.email}
									</a>
								) : (
									"–"
								)}
							</td>
							<td>{when(i.used_at)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</Layout>
	);
}
