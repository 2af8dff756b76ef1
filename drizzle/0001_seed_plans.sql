-- Plans are data: prices shown in the product, entitlements carried in license tokens, and the
-- Stripe price lookup keys (never price ids) the checkout resolves. Pilot plans are sold now.
INSERT INTO "plans" ("id", "name", "entitlements", "monthly_price_cents", "annual_price_cents", "stripe_lookup_key_monthly", "stripe_lookup_key_annual", "purchasable") VALUES
('starter', 'Starter', '{"activations_per_seat":2,"seats":1,"ci_runners":0,"features":["core"]}', 1900, 19000, 'starter_monthly', 'starter_annual', true),
('professional', 'Professional', '{"activations_per_seat":3,"seats":1,"ci_runners":1,"features":["core","pro"]}', 4900, 49000, 'professional_monthly', 'professional_annual', true),
('individual', 'Individual', '{"activations_per_seat":3,"seats":1,"ci_runners":0,"features":["core","pro"]}', 2900, 29000, 'individual_monthly', 'individual_annual', false),
('team', 'Team', '{"activations_per_seat":3,"seats":5,"ci_runners":1,"features":["core","pro","team"]}', 9900, 99000, 'team_monthly', 'team_annual', false),
('smb', 'SMB', '{"activations_per_seat":3,"seats":25,"ci_runners":5,"features":["core","pro","team","sso"]}', 49900, 499000, 'smb_monthly', 'smb_annual', false),
('enterprise', 'Enterprise', '{"activations_per_seat":5,"seats":100,"ci_runners":20,"features":["core","pro","team","sso","air_gap"]}', 249900, 2499000, 'enterprise_monthly', 'enterprise_annual', false)
ON CONFLICT ("id") DO NOTHING;
