"""Every notification type the app raises: (category, code), level, score, message, help."""

from __future__ import annotations

from dataclasses import dataclass

from ppc_robot.lib.models import NotificationLevel

ERROR, WARNING, SUGGESTION = NotificationLevel.ERROR, NotificationLevel.WARNING, NotificationLevel.SUGGESTION


@dataclass(frozen=True)
class NotificationType:
    """One kind of problem; the pair (category, code) names it and its knowledge-base page."""

    category: int
    code: int
    name: str
    level: NotificationLevel
    score: int
    template: str
    title: str
    explanation: str
    what_to_do: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.category, self.code)


# Categories. 4 is the original's URL checker; the others are ours.
JOBS, ACCOUNTS, QUOTA, URL_CHECKER, GOALS, CUSTOM_RULES, OUTPUTS = 1, 2, 3, 4, 5, 6, 7

CATEGORY_NAMES = {
    JOBS: "Jobs and runs",
    ACCOUNTS: "Platform logins and accounts",
    QUOTA: "API quotas",
    URL_CHECKER: "URL checker",
    GOALS: "Budgets and targets",
    CUSTOM_RULES: "Custom rules",
    OUTPUTS: "Outputs",
}
ANOMALIES = 8
CATEGORY_NAMES[ANOMALIES] = "Performance anomalies"

TYPES: tuple[NotificationType, ...] = (
    NotificationType(JOBS, 0, "report_failed", ERROR, 90, "Report “{job}” failed: {reason}",
                     "Report failed",
                     "The job ran but could not produce its output.",
                     "Read the reason on the run's page, fix the job or the login it uses, and run it again."),
    NotificationType(JOBS, 1, "run_overdue", ERROR, 95, "Report “{job}” did not run at {scheduled}: {reason}",
                     "Run overdue",
                     "A scheduled run did not start, or did not finish, in time. Usually no worker is running or the queue is stuck.",
                     "Check the queue health in the admin area and that a worker is running; then run the job by hand."),
    NotificationType(JOBS, 2, "account_missing_from_report", WARNING, 60,
                     "Report “{job}” is missing client account “{account}”: {reason}",
                     "Client account missing from a report",
                     "One client account of the job could not be read; the report was written without it.",
                     "Open the account's login on the Accounts page and re-authorise it or check its access."),
    NotificationType(ACCOUNTS, 0, "credentials_expired", ERROR, 85, "The login “{account}” has expired: {reason}",
                     "Login expired",
                     "The platform no longer accepts the stored credentials, so no report can read its accounts.",
                     "Re-authorise the login on the Accounts page."),
    NotificationType(ACCOUNTS, 1, "credentials_revoked", ERROR, 85, "Access for the login “{account}” was revoked: {reason}",
                     "Access revoked",
                     "The platform says the access was withdrawn (for example in the account's security settings).",
                     "Link the login again on the Accounts page."),
    NotificationType(ACCOUNTS, 2, "client_account_vanished", WARNING, 50,
                     "Client account “{account}” is no longer reachable through “{login}”",
                     "Client account vanished",
                     "The last sync did not find the account any more; jobs that use it will skip it.",
                     "Check the account's access on the platform, or remove it from the jobs that use it."),
    NotificationType(ACCOUNTS, 3, "platform_settings_invalid", ERROR, 95,
                     "{platform} refused this installation's settings: {reason}",
                     "Platform settings wrong",
                     "The platform refused the app's own settings (a developer token, the API version, the OAuth client or an address), not a user's login; every report and sync on that platform fails until they are corrected. Users' logins are left as they are.",
                     "Correct the named environment variable on the server and restart the web and worker processes."),
    NotificationType(QUOTA, 0, "rate_limit_exhausted", WARNING, 70,
                     "The {platform} API quota of “{account}” is used up; next attempt at {retry_at}",
                     "API quota exhausted",
                     "The platform's daily or per-minute limit was reached; runs wait for the next window instead of failing repeatedly.",
                     "Spread your jobs' schedules, or ask the platform for a higher quota."),
    NotificationType(URL_CHECKER, 0, "url_errors", ERROR, 80, "URL checker found {count} error(s)",
                     "Broken URLs",
                     "Landing pages of ads, keywords or extensions answered with an error or could not be reached. The URL checker job's run summary: the details list every broken URL grouped by the problem (an HTTP error, a soft 404, a redirect loop, a timeout, a host that does not resolve …) and where it is used. Pages that only blocked the robot (403, 429, 503) are inconclusive, not counted here.",
                     "Fix the pages or the URLs in the ads; the details list every broken URL. Each broken URL also has a notification of its own per account, which resolves itself when the page works again."),
    NotificationType(URL_CHECKER, 1, "url_redirects", WARNING, 40, "URL checker found {count} redirect(s)",
                     "Redirected URLs",
                     "Landing pages redirect elsewhere; tracking parameters may be lost and every click waits for the extra hops. Raised only by URL checker jobs that ask for it; the details give each URL's final address.",
                     "Point the ads straight at the final URL."),
    NotificationType(URL_CHECKER, 2, "url_broken", ERROR, 75,
                     "Landing page {url} of “{account}” is broken: {error}",
                     "Broken landing page",
                     "A URL checker job found that this landing page, used by the account's ads, keywords or sitelinks (listed in the details), answers with an error, a soft 404 (a page saying it was not found), a redirect loop, or cannot be reached at all. Paid clicks on it are wasted. It is raised once and counted again on each run that still finds it broken.",
                     "Fix the page, or change the final URL of the ads, keywords and sitelinks listed in the details. The notification resolves itself on the first run that finds the page working."),
    NotificationType(GOALS, 0, "budget_overspend", WARNING, 65,
                     "“{client}” is pacing over its monthly budget: {spent} spent, {budget} expected by now, {monthly} for the month",
                     "Budget pacing over",
                     "At the current pace the month's spend will exceed the client's budget.",
                     "Lower bids or daily budgets, or raise the client's monthly budget."),
    NotificationType(GOALS, 1, "budget_underspend", SUGGESTION, 30,
                     "“{client}” is pacing under its monthly budget: {spent} spent, {budget} expected by now, {monthly} for the month",
                     "Budget pacing under",
                     "At the current pace the month's budget will not be used.",
                     "Consider raising bids or budgets where performance allows."),
    NotificationType(GOALS, 2, "target_missed", WARNING, 55, "“{client}” missed its {metric} target: {value} against {target}",
                     "Target missed",
                     "A goal set on the client (CPA, ROAS or PNO) was not met in the report's period.",
                     "Look at the report's campaigns with the worst values first."),
    NotificationType(GOALS, 3, "budget_account_no_spend", WARNING, 60,
                     "Client account “{account}” of “{client}” spent nothing on {day}",
                     "No spend yesterday",
                     "The account belongs to a client with a monthly budget but spent nothing on the last whole day: its campaigns may be paused, out of budget, disapproved or its payment may have failed.",
                     "Open the account on its platform and check its campaigns' status, budgets and billing. The notification resolves itself when the account spends again."),
    NotificationType(GOALS, 4, "target_missed_days", WARNING, 55,
                     "“{client}” missed its {metric} target {days} days in a row: {value} against {target}",
                     "Target missed several days in a row",
                     "The client's daily CPA, ROAS or PNO (its accounts in its currency) was worse than its target on each of the last days, as many as the accounts overview's parameters say.",
                     "Look at the campaigns with the worst values first; adjust bids or the target. The notification resolves itself on the first run that finds the streak broken."),
    NotificationType(CUSTOM_RULES, 0, "custom_rule_hit", WARNING, 50, "Rule “{rule}”: {values} — {account}",
                     "Custom rule matched",
                     "A rule of a custom alert rules job matched a client account or a campaign: every condition of the rule held on the statistics store's numbers for the rule's period (with the minimum volume, if the rule sets one). The message names the rule, the values that matched and the account (or the account / campaign). It is raised once while the rule keeps matching, each run that finds it again counts another occurrence, and it resolves itself on the first run that no longer finds it.",
                     "Open the job's latest run for the table of hits and look at the account or campaign on its platform. If the rule is too eager, raise its threshold or its minimum volume in the job editor."),
    NotificationType(OUTPUTS, 0, "output_not_writable", ERROR, 75, "Report “{job}” could not write its output: {reason}",
                     "Output not writable",
                     "The file, folder or spreadsheet the job writes to could not be written.",
                     "Check the output settings of the job (path pattern, spreadsheet id and its sharing)."),
    NotificationType(OUTPUTS, 1, "numbers_moved", SUGGESTION, 35,
                     "Numbers of “{account}” moved after “{job}” was delivered: {metric} on {day} {before} → {after}",
                     "Numbers moved after delivery",
                     "The statistics store pulls the last days again every day, as platforms add late conversions and correct costs. A day this job already reported changed by more than the threshold (PPC_ROBOT_STATS_MOVED_PERCENT; unless set, 5 %) in conversions, conversion value or cost, so the delivered report shows old numbers. The details list every day and metric that moved.",
                     "Run the job again to deliver the corrected numbers; the job page marks the runs whose numbers moved. The notification resolves itself when the job delivers again."),
    NotificationType(ANOMALIES, 0, "performance_anomaly", WARNING, 55,
                     "{metric} of {entity} on {day} was {actual}, expected {expected} ({low} – {high})",
                     "Performance anomaly",
                     "Yesterday's cost, clicks, impressions or conversions of an account or campaign fell outside the usual range of the same weekday over the last weeks (the median and the median absolute deviation, widened by the job's sensitivity). A campaign that spent on those weekdays and had no impressions yesterday is always reported. The page shows the weeks compared in a chart.",
                     "Open the account on its platform and check what changed: paused campaigns, budgets, bids, disapprovals, tracking or billing. A real change of pace is fine: the notification resolves itself when the metric is back in range, and the job's sensitivity or minimum volume can be raised."),
)

BY_KEY = {t.key: t for t in TYPES}
BY_NAME = {t.name: t for t in TYPES}


def notification_type(name: str) -> NotificationType:
    """The type called `name`; a KeyError names a programming mistake."""
    return BY_NAME[name]
