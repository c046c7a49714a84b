CREATE TABLE "sweeps" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sweeps_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"invocation_id" text,
	"scenario_name" text NOT NULL,
	"target_name" text NOT NULL,
	"base_url" text NOT NULL,
	"model" text NOT NULL,
	"arrivals" text NOT NULL,
	"slo" jsonb NOT NULL,
	"options" jsonb NOT NULL,
	"label" text,
	"state" text NOT NULL,
	"end" text,
	"knee_rate_per_s" double precision,
	"first_failing_rate_per_s" double precision,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "sweep_id" integer;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "sweep_step" integer;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_sweep_id_sweeps_id_fk" FOREIGN KEY ("sweep_id") REFERENCES "public"."sweeps"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runs_sweep_idx" ON "runs" USING btree ("sweep_id","sweep_step");