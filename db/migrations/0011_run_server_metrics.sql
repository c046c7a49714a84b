CREATE TABLE "run_server_metrics" (
	"run_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"kind" text NOT NULL,
	"before" double precision,
	"after" double precision,
	"delta" double precision,
	"sum_delta" double precision,
	"max" double precision,
	CONSTRAINT "run_server_metrics_pkey" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "run_server_scrapes" (
	"run_id" integer PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"samples" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "run_server_metrics" ADD CONSTRAINT "run_server_metrics_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_server_scrapes" ADD CONSTRAINT "run_server_scrapes_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;