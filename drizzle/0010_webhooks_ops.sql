CREATE TABLE "webhook_event_throttle" (
	"org_id" text NOT NULL,
	"event_type" text NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webhook_event_throttle_org_id_event_type_pk" PRIMARY KEY("org_id","event_type")
);
--> statement-breakpoint
ALTER TABLE "webhook_event_throttle" ADD CONSTRAINT "webhook_event_throttle_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;
