CREATE TABLE "invite_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "invites" ADD COLUMN "batch_id" text;--> statement-breakpoint
ALTER TABLE "invites" ADD COLUMN "code_last4" text;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_batch_id_invite_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."invite_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invites_batch_idx" ON "invites" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "invite_batches_created_idx" ON "invite_batches" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "licenses_created_idx" ON "licenses" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "licenses_key_last4_idx" ON "licenses" USING btree ("key_last4");--> statement-breakpoint
CREATE INDEX "licenses_stripe_customer_idx" ON "licenses" USING btree ("stripe_customer_id");--> statement-breakpoint
CREATE INDEX "users_created_idx" ON "users" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "activations_created_idx" ON "activations" USING btree ("created_at","id");
