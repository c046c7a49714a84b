CREATE TABLE "serving_identities" (
	"scenario_name" text NOT NULL,
	"target_name" text NOT NULL,
	"hardware" text NOT NULL,
	"gpu" text,
	"gpu_count" integer,
	"usd_per_hour" double precision NOT NULL,
	"note" text,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "serving_identities_scenario_name_target_name_pk" PRIMARY KEY("scenario_name","target_name"),
	CONSTRAINT "serving_identities_usd_per_hour_check" CHECK ("serving_identities"."usd_per_hour" > 0 and "serving_identities"."usd_per_hour" < 'Infinity'::double precision),
	CONSTRAINT "serving_identities_gpu_count_check" CHECK ("serving_identities"."gpu_count" is null or "serving_identities"."gpu_count" > 0)
);
