CREATE TABLE "alerts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alerts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"run_id" integer NOT NULL,
	"metric" text NOT NULL,
	"method" text NOT NULL,
	"candidate" double precision,
	"baseline" double precision,
	"lower" double precision,
	"upper" double precision,
	"delta_pct" double precision,
	"p_value" double precision,
	"reason" text NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acted_by" text,
	"acted_at" timestamp with time zone,
	"note" text,
	CONSTRAINT "alerts_state_check" CHECK ("alerts"."state" in ('active', 'acknowledged', 'dismissed'))
);
--> statement-breakpoint
CREATE TABLE "change_points" (
	"fingerprint" text NOT NULL,
	"metric" text NOT NULL,
	"run_id" integer NOT NULL,
	"point_index" integer NOT NULL,
	"change_pct" double precision NOT NULL,
	"magnitude" double precision NOT NULL,
	"p_value" double precision NOT NULL,
	"mean_before" double precision NOT NULL,
	"mean_after" double precision NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_points_pkey" PRIMARY KEY("fingerprint","metric","run_id")
);
--> statement-breakpoint
CREATE TABLE "run_limits" (
	"run_id" integer NOT NULL,
	"metric" text NOT NULL,
	"method" text NOT NULL,
	"candidate" double precision,
	"baseline" double precision,
	"lower" double precision,
	"upper" double precision,
	"verdict" text NOT NULL,
	"p_value" double precision,
	"baseline_n" integer NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "run_limits_pkey" PRIMARY KEY("run_id","metric","method")
);
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "role" text DEFAULT 'run' NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_points" ADD CONSTRAINT "change_points_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_limits" ADD CONSTRAINT "run_limits_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_state_created_idx" ON "alerts" USING btree ("state","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "alerts_run_idx" ON "alerts" USING btree ("run_id");