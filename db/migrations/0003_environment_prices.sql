CREATE TABLE "environment_prices" (
	"environment_id" integer PRIMARY KEY NOT NULL,
	"usd_per_hour" double precision NOT NULL,
	"note" text,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "environment_prices_usd_per_hour_check" CHECK ("environment_prices"."usd_per_hour" > 0 and "environment_prices"."usd_per_hour" < 'Infinity'::double precision)
);
--> statement-breakpoint
ALTER TABLE "environment_prices" ADD CONSTRAINT "environment_prices_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE cascade ON UPDATE no action;