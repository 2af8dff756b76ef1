/**
 * The console's one stylesheet, served from this origin (GET /admin/console.css) so the CSP can
 * be `style-src 'self'` with no inline style. System fonts only: nothing to fetch.
 */
export const CONSOLE_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #5b6470; --line: #d7dce2; --accent: #2457c5; --bad: #b42318; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7f9; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
header nav { display: flex; gap: .9rem; flex: 1; flex-wrap: wrap; }
header nav a { color: var(--muted); text-decoration: none; }
header nav a.current, header nav a:hover { color: var(--accent); }
main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
main.login { max-width: 28rem; margin: 10vh auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; }
h1 { font-size: 1.35rem; margin: .3rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .6rem; }
a { color: var(--accent); }
label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--ink); }
button { background: var(--accent); border-color: var(--accent); color: #fff; cursor: pointer; }
.actions { display: flex; gap: .6rem; }
button.danger { background: var(--bad); border-color: var(--bad); }
.logout button { background: #fff; color: var(--muted); border-color: var(--line); }
form.search, form.edit { display: flex; flex-wrap: wrap; gap: .7rem; align-items: flex-end; margin-bottom: 1rem; }
main.login form { display: flex; flex-direction: column; gap: .8rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #eef1f5; font-size: .8rem; text-transform: uppercase; letter-spacing: .02em; color: var(--muted); }
td.mono, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8rem; word-break: break-all; }
.status-active { color: var(--ok); }
.status-suspended, .status-revoked, .status-past_due, .status-expired { color: var(--bad); }
.error { color: var(--bad); }
.notice { background: #eef6ee; border: 1px solid #b7dbbd; padding: .6rem .8rem; border-radius: 6px; }
.hint, .empty { color: var(--muted); }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .8rem; margin: 0 0 1rem; }
dl.figures div { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
dl.figures dt { color: var(--muted); font-size: .8rem; }
dl.figures dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
figure.chart { margin: 0 0 1.2rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
figure.chart figcaption { font-weight: 600; margin-bottom: .3rem; }
figure.chart svg { width: 100%; height: auto; display: block; }
svg .bar { fill: var(--accent); }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2; }
svg .dot { fill: var(--accent); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { fill: var(--muted); font-size: 11px; }
`;
