CREATE TABLE "matrices" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "matrices_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"invocation_id" text NOT NULL,
	"scenario_name" text NOT NULL,
	"scenario" jsonb NOT NULL,
	"source" text NOT NULL,
	"base_dir" text NOT NULL,
	"label" text,
	"required_tags" jsonb NOT NULL,
	"max_attempts" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matrix_jobs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "matrix_jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"matrix_id" integer NOT NULL,
	"ordinal" integer NOT NULL,
	"kind" text NOT NULL,
	"target_name" text NOT NULL,
	"load_index" integer,
	"spec" jsonb NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"queue_job_id" bigint,
	"worker_id" text,
	"run_ids" integer[] DEFAULT '{}'::integer[] NOT NULL,
	"run_id" integer,
	"last_error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "matrix_jobs_state_check" CHECK ("matrix_jobs"."state" in ('queued', 'running', 'retrying', 'completed', 'dead'))
);
--> statement-breakpoint
CREATE TABLE "queue_workers" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"tags" jsonb NOT NULL,
	"concurrency" integer NOT NULL,
	"state" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stopped_at" timestamp with time zone,
	CONSTRAINT "queue_workers_state_check" CHECK ("queue_workers"."state" in ('running', 'stopped', 'lost'))
);
--> statement-breakpoint
ALTER TABLE "matrix_jobs" ADD CONSTRAINT "matrix_jobs_matrix_id_matrices_id_fk" FOREIGN KEY ("matrix_id") REFERENCES "public"."matrices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matrix_jobs" ADD CONSTRAINT "matrix_jobs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "matrix_jobs_matrix_ordinal_idx" ON "matrix_jobs" USING btree ("matrix_id","ordinal");