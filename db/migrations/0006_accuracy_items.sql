CREATE TABLE "accuracy_items" (
	"run_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"item_id" text NOT NULL,
	"subject" text NOT NULL,
	"item_index" integer NOT NULL,
	"answer" integer NOT NULL,
	"predicted" integer,
	"correct" boolean,
	"logliks" double precision[],
	"generated" text,
	"started_at_ms" double precision NOT NULL,
	"duration_ms" double precision NOT NULL,
	"error_kind" text,
	"message" text,
	CONSTRAINT "accuracy_items_pkey" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
ALTER TABLE "accuracy_items" ADD CONSTRAINT "accuracy_items_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;