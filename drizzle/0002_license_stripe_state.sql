ALTER TABLE "licenses" ADD COLUMN "stripe_status" text;--> statement-breakpoint
ALTER TABLE "licenses" ADD COLUMN "stripe_dispute_id" text;