//! The operations on automation rules, their firings and the runner's cursor (see
//! [`crate::automation`]). The runner itself, which evaluates the rules and runs
//! their actions, is the application crate's; what it stores goes through here.

use crate::automation::{
    AutomationCursor, EffectiveRule, Firing, Occurrence, Rule, RuleName, RuleRecord,
    effective_rules, is_builtin,
};
use chrono::{DateTime, Utc};

use crate::error::Conflict;
use crate::ids::CustomerId;
use crate::lifecycle::LifecycleStage;
use crate::port::{ContactTimes, CustomerDates};
use crate::store::{Entity, StoreError, StoreResult};

use super::{Reader, Writer};

impl Reader<'_> {
    /// The rules in force: the built-ins with their switches, then the user's rules.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn rules(&self) -> StoreResult<Vec<EffectiveRule>> {
        Ok(effective_rules(&self.tx.rules()?))
    }

    /// The rule with this name.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn rule(&self, name: &RuleName) -> StoreResult<EffectiveRule> {
        self.rules()?
            .into_iter()
            .find(|r| r.rule.name() == name)
            .ok_or_else(|| StoreError::not_found(Entity::Rule, name))
    }

    /// Every firing, by day, then rule, customer and occurrence.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn firings(&self) -> StoreResult<Vec<Firing>> {
        self.tx.firings()
    }

    /// Whether `rule` has fired for `customer` and `occurrence`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn has_fired(
        &self,
        rule: &RuleName,
        customer: CustomerId,
        occurrence: &Occurrence,
    ) -> StoreResult<bool> {
        self.tx.firing_exists(rule, customer, occurrence)
    }

    /// The creation instant and birthday of every customer who is not erased, by id:
    /// what the birthday and no-contact rules read (see
    /// [`ReadTx::customer_dates`](crate::port::ReadTx::customer_dates)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn customer_dates(&self) -> StoreResult<Vec<CustomerDates>> {
        self.tx.customer_dates()
    }

    /// The stage of every customer who is not erased, by id, without reading them
    /// whole (see [`ReadTx::customer_stages`](crate::port::ReadTx::customer_stages)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn customer_stages(&self) -> StoreResult<Vec<(CustomerId, LifecycleStage)>> {
        self.tx.customer_stages()
    }

    /// Each customer's latest contact before `from` and their contacts from `from` up
    /// to `until` (see [`ReadTx::contact_times`](crate::port::ReadTx::contact_times)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn contact_times(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<ContactTimes>> {
        self.tx.contact_times(from, until)
    }

    /// Where the runner has got to.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn automation_cursor(&self) -> StoreResult<AutomationCursor> {
        self.tx.automation_cursor()
    }
}

impl Writer<'_> {
    /// Adds a user's rule, on or off.
    ///
    /// # Errors
    ///
    /// [`Conflict::DuplicateRule`] if a rule (a built-in included) has its name.
    pub fn add_rule(&mut self, rule: Rule, enabled: bool) -> StoreResult<()> {
        self.atomic(|w| {
            let name = rule.name().clone();
            if w.tx
                .rules()?
                .iter()
                .any(|r| r.name == name && r.rule.is_some())
                || is_builtin(&name)
            {
                return Err(Conflict::DuplicateRule {
                    name: name.to_string(),
                }
                .into());
            }
            w.tx.put_rule(&RuleRecord {
                name,
                enabled,
                rule: Some(rule.clone()),
            })
        })
    }

    /// Replaces a user's rule (keeping its switch), or adds it (on) if there is none.
    ///
    /// # Errors
    ///
    /// [`Conflict::BuiltinRule`] for a built-in's name.
    pub fn put_rule(&mut self, rule: Rule) -> StoreResult<()> {
        self.atomic(|w| {
            let name = rule.name().clone();
            if is_builtin(&name) {
                return Err(Conflict::BuiltinRule {
                    name: name.to_string(),
                }
                .into());
            }
            let enabled =
                w.tx.rules()?
                    .iter()
                    .find(|r| r.name == name)
                    .is_none_or(|r| r.enabled);
            w.tx.put_rule(&RuleRecord {
                name,
                enabled,
                rule: Some(rule.clone()),
            })
        })
    }

    /// Changes a user's rule in place: `rule` (already validated by [`Rule::new`])
    /// replaces the stored rule of the same name, which keeps its switch and its
    /// firings (so an occurrence it fired for before the edit does not fire again).
    ///
    /// # Errors
    ///
    /// [`Conflict::BuiltinRule`] for a built-in's name (a built-in is switched, not
    /// edited); [`StoreError::NotFound`] if there is no such rule.
    pub fn edit_rule(&mut self, rule: Rule) -> StoreResult<()> {
        self.atomic(|w| {
            let name = rule.name().clone();
            if is_builtin(&name) {
                return Err(Conflict::BuiltinRule {
                    name: name.to_string(),
                }
                .into());
            }
            let Some(current) =
                w.tx.rules()?
                    .into_iter()
                    .find(|r| r.name == name && r.rule.is_some())
            else {
                return Err(StoreError::not_found(Entity::Rule, &name));
            };
            w.tx.put_rule(&RuleRecord {
                name,
                enabled: current.enabled,
                rule: Some(rule.clone()),
            })
        })
    }

    /// Switches a rule on or off; returns it as it is now.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn set_rule_enabled(
        &mut self,
        name: &RuleName,
        enabled: bool,
    ) -> StoreResult<EffectiveRule> {
        self.atomic(|w| {
            let mut current = w.reader().rule(name)?;
            let record = RuleRecord {
                name: name.clone(),
                enabled,
                rule: (!current.builtin).then(|| current.rule.clone()),
            };
            w.tx.put_rule(&record)?;
            current.enabled = enabled;
            Ok(current)
        })
    }

    /// Removes a user's rule. Its firings stay: they say what it did.
    ///
    /// # Errors
    ///
    /// [`Conflict::BuiltinRule`] for a built-in; [`StoreError::NotFound`].
    pub fn remove_rule(&mut self, name: &RuleName) -> StoreResult<()> {
        self.atomic(|w| {
            if is_builtin(name) {
                return Err(Conflict::BuiltinRule {
                    name: name.to_string(),
                }
                .into());
            }
            if !w.tx.delete_rule(name)? {
                return Err(StoreError::not_found(Entity::Rule, name));
            }
            Ok(())
        })
    }

    /// Records a firing, unless its (rule, customer, occurrence) has fired already;
    /// returns whether it recorded it. The runner calls it in the transaction of the
    /// firing's actions, after checking [`Reader::has_fired`] before running them.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn record_firing(&mut self, firing: &Firing) -> StoreResult<bool> {
        self.atomic(|w| {
            if w.tx
                .firing_exists(&firing.rule, firing.customer, &firing.occurrence)?
            {
                return Ok(false);
            }
            w.tx.insert_firing(firing)?;
            Ok(true)
        })
    }

    /// Moves the runner's cursor. It never goes back: an older cursor's fields are
    /// kept where the stored one is further on.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    pub fn advance_automation_cursor(
        &mut self,
        to: AutomationCursor,
    ) -> StoreResult<AutomationCursor> {
        self.atomic(|w| {
            let now = w.tx.automation_cursor()?;
            let next = AutomationCursor {
                events: now.events.max(to.events),
                day: now.day.max(to.day),
            };
            if next != now {
                w.tx.set_automation_cursor(&next)?;
            }
            Ok(next)
        })
    }
}
