CREATE TABLE "spec_endpoint_k" (
	"study_id" integer NOT NULL,
	"k" integer NOT NULL,
	"drafted" integer,
	"accepted" integer,
	"drafts" integer,
	"acceptance_rate" double precision,
	"mean_acceptance_length" double precision,
	"alpha_hat" double precision,
	"tokens_per_s" double precision NOT NULL,
	"baseline_tokens_per_s" double precision NOT NULL,
	"cost_ratio" double precision,
	"measured_speedup" double precision NOT NULL,
	"predicted_speedup" double precision,
	"error" double precision,
	"relative_error" double precision,
	"same_output" boolean NOT NULL,
	"counters_source" text,
	"details" jsonb NOT NULL,
	CONSTRAINT "spec_endpoint_k_study_id_k_pk" PRIMARY KEY("study_id","k")
);
--> statement-breakpoint
ALTER TABLE "spec_endpoint_k" ADD CONSTRAINT "spec_endpoint_k_study_id_spec_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."spec_studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spec_studies" ADD CONSTRAINT "spec_studies_kind_check" CHECK ("spec_studies"."kind" in ('native', 'endpoint'));