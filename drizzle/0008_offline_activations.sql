ALTER TABLE "activations" ADD COLUMN "offline_nonce" text;--> statement-breakpoint
ALTER TABLE "activations" ADD COLUMN "machine_key" text;
