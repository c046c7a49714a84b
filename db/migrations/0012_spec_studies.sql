CREATE TABLE "spec_studies" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "spec_studies_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"study" jsonb NOT NULL,
	"source" text,
	"base_dir" text,
	"label" text,
	"state" text NOT NULL,
	"error" text,
	"progress" real DEFAULT 0 NOT NULL,
	"progress_message" text,
	"environment" jsonb,
	"cost_ratio" double precision,
	"alpha_used" double precision,
	"optimal_k" integer,
	"optimal_speedup" double precision,
	"worthwhile" boolean,
	"details" jsonb,
	"duration_ms" double precision,
	"matrix_id" integer,
	"matrix_job_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "spec_studies_state_check" CHECK ("spec_studies"."state" in ('queued', 'running', 'completed', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "spec_study_k" (
	"study_id" integer NOT NULL,
	"k" integer NOT NULL,
	"drafted" integer NOT NULL,
	"accepted" integer NOT NULL,
	"verify_steps" integer NOT NULL,
	"emitted" integer NOT NULL,
	"acceptance_rate" double precision NOT NULL,
	"mean_acceptance_length" double precision NOT NULL,
	"alpha_hat" double precision NOT NULL,
	"accept_lengths" integer[] NOT NULL,
	"tokens_per_s" double precision NOT NULL,
	"baseline_tokens_per_s" double precision NOT NULL,
	"cost_ratio" double precision NOT NULL,
	"measured_speedup" double precision NOT NULL,
	"predicted_speedup" double precision NOT NULL,
	"error" double precision NOT NULL,
	"predicted_from_tau" double precision NOT NULL,
	"verify_cost_ratio" double precision NOT NULL,
	"matches_target" boolean,
	"details" jsonb NOT NULL,
	CONSTRAINT "spec_study_k_study_id_k_pk" PRIMARY KEY("study_id","k")
);
--> statement-breakpoint
CREATE TABLE "spec_study_positions" (
	"study_id" integer NOT NULL,
	"k" integer NOT NULL,
	"position" integer NOT NULL,
	"accepted" integer NOT NULL,
	"rate" double precision NOT NULL,
	CONSTRAINT "spec_study_positions_study_id_k_position_pk" PRIMARY KEY("study_id","k","position")
);
--> statement-breakpoint
CREATE TABLE "spec_study_prompts" (
	"study_id" integer NOT NULL,
	"k" integer NOT NULL,
	"prompt" integer NOT NULL,
	"drafted" integer NOT NULL,
	"accepted" integer NOT NULL,
	"verify_steps" integer NOT NULL,
	"emitted" integer NOT NULL,
	"accept_lengths" integer[] NOT NULL,
	"mean_acceptance_length" double precision NOT NULL,
	"tokens_per_s" double precision NOT NULL,
	"baseline_tokens_per_s" double precision NOT NULL,
	"matches_target" boolean,
	CONSTRAINT "spec_study_prompts_study_id_k_prompt_pk" PRIMARY KEY("study_id","k","prompt")
);
--> statement-breakpoint
ALTER TABLE "spec_studies" ADD CONSTRAINT "spec_studies_matrix_id_matrices_id_fk" FOREIGN KEY ("matrix_id") REFERENCES "public"."matrices"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spec_studies" ADD CONSTRAINT "spec_studies_matrix_job_id_matrix_jobs_id_fk" FOREIGN KEY ("matrix_job_id") REFERENCES "public"."matrix_jobs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spec_study_k" ADD CONSTRAINT "spec_study_k_study_id_spec_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."spec_studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spec_study_positions" ADD CONSTRAINT "spec_study_positions_study_id_spec_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."spec_studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spec_study_prompts" ADD CONSTRAINT "spec_study_prompts_study_id_spec_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."spec_studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "spec_studies_matrix_job_idx" ON "spec_studies" USING btree ("matrix_job_id");