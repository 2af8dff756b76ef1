ALTER TABLE "licenses" ADD COLUMN "stripe_status" text;--> statement-breakpoint
ALTER TABLE "licenses" ADD COLUMN "stripe_open_disputes" text[] DEFAULT '{}'::text[] NOT NULL;