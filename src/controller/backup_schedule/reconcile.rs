//! The schedule's reconcile: list the children, plan, create the due child, apply retention, write
//! the status, publish the events, and come back exactly at the next run time.
//!
//! There is no polling loop: besides that one requeue, a schedule wakes only when it changes or one
//! of its children does (the watches in [`super::run`]). An idle schedule makes no API call.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::Action as Requeue;
use kube::{Resource, ResourceExt};

use super::children::{Child, ChildView, child_name, make, view};
use super::planner::{self, Action, Plan, PlanInput};
use super::recent::RecentSchedules;
use super::retention::{self, Policy, Verdict};
use super::status::{self, Inputs, Settled, event, reason};
use crate::controller::bounded::{MAX_MESSAGE, clip};
use crate::controller::context::{Context, FIELD_MANAGER};
use crate::controller::decide::EventNote;
use crate::controller::error::{Error, Result};
use crate::controller::kube_io::{apply_status, publish};
use crate::controller::schedule::jitter;
use crate::crd::backup_schedule::{SCHEDULE_LABEL, TemplateKind};
use crate::crd::cron::CronSchedule;
use crate::crd::{BackupSchedule, BackupScheduleStatus, DcsBackup, DdsBackup, TaurusDbBackup};
use crate::metrics::ScheduleFigures;

/// The `controller` label of this controller's metrics.
pub const CONTROLLER: &str = "backupschedule";
/// Longest single wait: a schedule years apart still wakes daily (bounded timers, clock changes).
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// What the schedule controller shares between reconciles.
pub struct ScheduleContext {
    pub ctx: Arc<Context>,
    pub recent: RecentSchedules,
}

impl ScheduleContext {
    pub fn new(ctx: Arc<Context>) -> Self {
        Self {
            ctx,
            recent: RecentSchedules::default(),
        }
    }
}

/// Reconciles one schedule (the function handed to kube-runtime's Controller).
pub async fn reconcile(obj: Arc<BackupSchedule>, sctx: Arc<ScheduleContext>) -> Result<Requeue> {
    Ok(match reconcile_once(&obj, &sctx).await? {
        Some(wait) => Requeue::requeue(wait),
        None => Requeue::await_change(),
    })
}

/// One reconcile; returns when to come back (`None`: only on a change). Tests drive this directly.
#[tracing::instrument(skip_all, fields(ns = s.namespace(), name = %s.name_any()))]
pub async fn reconcile_once(
    s: &BackupSchedule,
    sctx: &ScheduleContext,
) -> Result<Option<Duration>> {
    let ctx = &sctx.ctx;
    let _timer = ctx.metrics.reconcile_timer(CONTROLLER);
    let uid = s.uid().ok_or(Error::MissingField("uid"))?;
    let now = ctx.schedule_clock.now();
    let before = sctx
        .recent
        .freshest(&uid, s.status.clone().unwrap_or_default());
    let cron = match s.validate() {
        Ok(cron) => cron,
        Err(message) => return invalid(s, sctx, &before, now, &message).await,
    };
    let run = Run {
        s,
        sctx,
        before: &before,
        cron: &cron,
        now,
    };
    match s.spec.template.kind() {
        Some(TemplateKind::Dcs(t)) => run.children::<DcsBackup>(t).await,
        Some(TemplateKind::Dds(t)) => run.children::<DdsBackup>(t).await,
        Some(TemplateKind::Taurus(t)) => run.children::<TaurusDbBackup>(t).await,
        None => Err(Error::Internal("validated template names no kind".into())),
    }
}

/// One reconcile of a valid schedule.
struct Run<'a> {
    s: &'a BackupSchedule,
    sctx: &'a ScheduleContext,
    before: &'a BackupScheduleStatus,
    cron: &'a CronSchedule,
    now: Timestamp,
}

impl Run<'_> {
    async fn children<K: Child>(&self, template: &K::Spec) -> Result<Option<Duration>> {
        let ctx = &self.sctx.ctx;
        let ns = self.s.namespace().ok_or(Error::MissingField("namespace"))?;
        let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
        let selector = format!("{SCHEDULE_LABEL}={}", self.s.name_any());
        let listed = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(Error::Kube)?;
        let mut children: Vec<ChildView> = listed.items.iter().map(view).collect();
        let plan = self.plan(&children)?;
        let settled = self.settle(&api, template, &plan, &mut children).await?;
        let busy: Vec<String> = children
            .iter()
            .filter(|c| !c.is_final() && !c.deleting)
            .map(|c| c.name.clone())
            .collect();
        let verdict = self.retain(&api, &mut children).await?;
        let next = status::next(&Inputs {
            before: self.before,
            generation: self.s.meta().generation,
            now: self.now,
            cron: self.cron,
            plan: &plan,
            settled: &settled,
            children: &children,
            verdict: &verdict,
            warning: self.s.warning(),
        });
        self.write(&next).await?;
        let events = status::plan_events(&plan, self.cron, &busy, &self.s.spec.starting_deadline);
        for note in &events {
            publish(ctx, self.s, note, "Schedule").await;
        }
        self.report(&next);
        Ok(plan.next.filter(|_| !self.s.spec.suspend).map(|next| {
            let wait = Duration::try_from(next.duration_since(self.now)).unwrap_or_default();
            ctx.schedule_clock.real(wait).min(MAX_WAIT)
        }))
    }

    fn plan(&self, children: &[ChildView]) -> Result<Plan> {
        let created = self
            .s
            .meta()
            .creation_timestamp
            .as_ref()
            .ok_or(Error::MissingField("creationTimestamp"))?
            .0;
        let active: Vec<Timestamp> = children
            .iter()
            .filter(|c| !c.is_final() && !c.deleting)
            .map(|c| c.scheduled)
            .collect();
        Ok(planner::plan(&PlanInput {
            cron: self.cron,
            suspend: self.s.spec.suspend,
            resuming: status::was_suspended(self.before) && !self.s.spec.suspend,
            starting_deadline: self.s.starting_deadline(),
            settled_until: status::settled_until(self.before, created),
            active: &active,
            now: self.now,
        }))
    }

    /// Creates the child of a run (unless it exists: a crash after the create) and says what is settled.
    async fn settle<K: Child>(
        &self,
        api: &Api<K>,
        template: &K::Spec,
        plan: &Plan,
        children: &mut Vec<ChildView>,
    ) -> Result<Settled> {
        let at = match plan.action {
            Action::Run(at) => at,
            Action::Skip(at, _) => {
                return Ok(Settled {
                    ran: None,
                    skipped: Some(at),
                });
            }
            Action::Wait | Action::Suspended => return Ok(Settled::default()),
        };
        let name = child_name(&self.s.name_any(), at);
        if children.iter().any(|c| c.name == name) {
            return Ok(Settled {
                ran: Some(at),
                skipped: None,
            });
        }
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        let ctx = &self.sctx.ctx;
        // A replica that no longer leads makes no backups (nor deletes any, below).
        ctx.fence.check()?;
        match api.create(&params, &make::<K>(self.s, template, at)).await {
            Ok(child) => {
                children.push(view(&child));
                let note = EventNote {
                    warning: false,
                    reason: event::BACKUP_SCHEDULED.into(),
                    note: format!(
                        "created {} {name} for the run at {}",
                        K::kind(&()),
                        self.cron.wall_clock(at)
                    ),
                };
                // Right away: after a crash before the status write, the child exists and is not announced again.
                publish(ctx, self.s, &note, "Schedule").await;
                Ok(Settled {
                    ran: Some(at),
                    skipped: None,
                })
            }
            // Not among the labelled children, so another object holds the name: never adopt it.
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let note = EventNote {
                    warning: true,
                    reason: event::NAME_TAKEN.into(),
                    note: format!(
                        "run at {} skipped: {} {name} exists and does not belong to this schedule",
                        self.cron.wall_clock(at),
                        K::kind(&())
                    ),
                };
                publish(ctx, self.s, &note, "Schedule").await;
                Ok(Settled {
                    ran: None,
                    skipped: Some(at),
                })
            }
            Err(e) => Err(Error::Kube(e)),
        }
    }

    /// Deletes the children retention does not keep; their cleanup deletes the cloud backups.
    async fn retain<K: Child>(&self, api: &Api<K>, children: &mut [ChildView]) -> Result<Verdict> {
        let policy = self.s.spec.retention.as_ref().map(|r| Policy {
            keep_last: r.keep_last.and_then(|k| usize::try_from(k).ok()),
            max_age: r.max_age(),
            keep_failed: usize::try_from(r.keep_failed).unwrap_or_default(),
        });
        let verdict = retention::apply(children, policy.as_ref(), self.now);
        let mut deleted = Vec::new();
        if !verdict.delete.is_empty() {
            self.sctx.ctx.fence.check()?;
        }
        for name in &verdict.delete {
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => deleted.push(name.clone()),
                // Gone already (a user, or an earlier reconcile whose status write was lost).
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(Error::Kube(e)),
            }
            if let Some(c) = children.iter_mut().find(|c| &c.name == name) {
                c.deleting = true;
            }
        }
        if !deleted.is_empty() {
            let note = EventNote {
                warning: false,
                reason: event::RETENTION_DELETED.into(),
                note: format!(
                    "deleted {} {}; keeping {} Succeeded and {} Failed",
                    K::PLURAL,
                    deleted.join(", "),
                    verdict.kept_succeeded,
                    verdict.kept_failed
                ),
            };
            publish(&self.sctx.ctx, self.s, &note, "Retention").await;
        }
        Ok(verdict)
    }

    async fn write(&self, next: &BackupScheduleStatus) -> Result<()> {
        write_status(self.s, self.sctx, self.before, next).await
    }

    fn report(&self, st: &BackupScheduleStatus) {
        let ns = self.s.namespace().unwrap_or_default();
        self.sctx.ctx.metrics.set_schedule(
            &ns,
            &self.s.name_any(),
            &ScheduleFigures {
                next_run: st.next_schedule_time.as_ref().map(|t| t.0.as_second()),
                last_run: st.last_schedule_time.as_ref().map(|t| t.0.as_second()),
                last_success: st.last_successful_time.as_ref().map(|t| t.0.as_second()),
                kept_succeeded: st.kept_succeeded.unwrap_or_default().into(),
                kept_failed: st.kept_failed.unwrap_or_default().into(),
            },
        );
    }
}

/// A spec that cannot be used: `Ready=False` (`InvalidSpec`), nothing runs, and a Warning says why
/// the first time.
async fn invalid(
    s: &BackupSchedule,
    sctx: &ScheduleContext,
    before: &BackupScheduleStatus,
    now: Timestamp,
    message: &str,
) -> Result<Option<Duration>> {
    let message = clip(message, MAX_MESSAGE);
    let next = status::invalid(before, s.meta().generation, now, &message);
    let was = before
        .conditions
        .iter()
        .find(|c| c.type_ == status::READY)
        .filter(|c| c.reason == reason::INVALID_SPEC)
        .map(|c| c.message.as_str());
    write_status(s, sctx, before, &next).await?;
    if was != Some(message.as_str()) {
        let note = EventNote {
            warning: true,
            reason: event::INVALID_SPEC.into(),
            note: message.clone(),
        };
        publish(&sctx.ctx, s, &note, "Schedule").await;
    }
    sctx.ctx
        .metrics
        .forget_schedule(&s.namespace().unwrap_or_default(), &s.name_any());
    Ok(None)
}

/// Writes the status when it changed, and remembers it against a lagging cache.
async fn write_status(
    s: &BackupSchedule,
    sctx: &ScheduleContext,
    before: &BackupScheduleStatus,
    next: &BackupScheduleStatus,
) -> Result<()> {
    if next == before {
        return Ok(());
    }
    let ns = s.namespace().ok_or(Error::MissingField("namespace"))?;
    let api: Api<BackupSchedule> = Api::namespaced(sctx.ctx.client.clone(), &ns);
    apply_status(&api, s, next).await?;
    if let Some(uid) = s.uid() {
        sctx.recent.remember(&uid, next);
    }
    Ok(())
}

/// Error policy: count, log, retry with jitter (conflicts quickly).
pub fn error_policy(obj: Arc<BackupSchedule>, err: &Error, sctx: Arc<ScheduleContext>) -> Requeue {
    let ctx = &sctx.ctx;
    ctx.metrics.reconcile_error(CONTROLLER, err.reason());
    tracing::warn!(kind = CONTROLLER, name = %obj.name_any(), reason = err.reason(), error = %err, "reconcile failed");
    let wait = match err {
        Error::Kube(kube::Error::Api(s)) if s.code == 409 => Duration::from_secs(1),
        _ => ctx.settings.retry_after,
    };
    Requeue::requeue(jitter(wait))
}
