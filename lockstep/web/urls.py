from django.urls import path, re_path, register_converter

from lockstep.web import (
    advisories,
    cases,
    embargo,
    intake,
    invitations,
    lists,
    operator,
    orgs,
    outbox,
    report_files,
    securitytxt,
    signin,
    triage,
    views,
    vulns,
)
from lockstep.web.paging import IdConverter
from lockstep.web.tokens import my_tokens

app_name = "web"
register_converter(IdConverter, "id")  # ids the database can hold (web/paging.py)

urlpatterns = [
    path("", views.home, name="home"),
    path("account/security/", signin.security, name="security"),
    path("account/keys/", views.my_keys, name="keys"),
    path("account/tokens/", my_tokens, name="tokens"),
    path("orgs/<slug:slug>/", orgs.org_detail, name="org"),
    path("orgs/<slug:slug>/invitations/", orgs.invite, name="org-invite"),
    path(
        "orgs/<slug:slug>/invitations/<id:invitation_id>/revoke/",
        orgs.revoke_invitation,
        name="org-invitation-revoke",
    ),
    path("orgs/<slug:slug>/members/<id:user_id>/role/", orgs.change_role, name="org-member-role"),
    path("orgs/<slug:slug>/members/<id:user_id>/remove/", orgs.remove, name="org-member-remove"),
    path("invitations/<str:token>/", invitations.invitation, name="invitation"),
    # Operators only (404 for anyone else).
    path("operator/accounts/", operator.accounts, name="operator-accounts"),
    path(
        "operator/accounts/<id:user_id>/deactivate/",
        operator.deactivate,
        name="operator-deactivate",
    ),
    path(
        "operator/accounts/<id:user_id>/reactivate/",
        operator.reactivate,
        name="operator-reactivate",
    ),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("channels/<slug:slug>/", views.channel_detail, name="channel"),
    path("channels/<slug:slug>/mail/", lists.channel_mail, name="channel-mail"),
    path("channels/<slug:slug>/publish/", lists.post_public, name="channel-publish"),
    path("lists/<slug:slug>/", lists.archive, name="public-archive"),
    path("lists/<slug:slug>/<id:post_id>/", lists.public_post, name="public-post"),
    path("list-key.asc", lists.list_key, name="list-key"),
    path("account/mail/", lists.mail_settings, name="mail-settings"),
    # Intake: public, no account needed.
    path("report/", intake.choose_project, name="report-choose"),
    path("projects/<slug:slug>/report/", intake.report_form, name="report"),
    path("projects/<slug:slug>/security.txt", securitytxt.project, name="project-security-txt"),
    path("projects/<slug:slug>/openpgp.asc", securitytxt.project_key, name="project-key"),
    path(
        "projects/<slug:slug>/mail-key.asc",
        securitytxt.project_mail_key,
        name="project-mail-key",
    ),
    path("track/<str:token>/", intake.track, name="track"),
    path("track/<str:token>/files/<id:file_id>/", report_files.reporter_file, name="track-file"),
    # Triage: the upstream team's inbox.
    path("triage/", triage.inbox, name="triage"),
    path("triage/<id:report_id>/", triage.report_detail, name="triage-report"),
    path(
        "triage/<id:report_id>/files/<id:file_id>/",
        report_files.triage_file,
        name="triage-file",
    ),
    path("triage/<id:report_id>/accept/", triage.accept, name="triage-accept"),
    path("triage/<id:report_id>/decline/", triage.decline, name="triage-decline"),
    path("triage/<id:report_id>/duplicate/", triage.duplicate, name="triage-duplicate"),
    path("triage/<id:report_id>/spam/", triage.spam, name="triage-spam"),
    # Outbound mail: held copies, and the embedded mode's outbox folder.
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<id:row_id>/", outbox.decide, name="outbox-decide"),
    path("outbox/<id:row_id>/retry-now/", outbox.retry_now, name="outbox-retry-now"),
    path("outbox/inbound/<id:message_id>/", outbox.decide_inbound, name="inbound-decide"),
    # Public advisories and the archive (no login; nothing before its time).
    path("advisories/", advisories.advisory_list, name="advisories"),
    path("advisories/feed.atom", advisories.advisory_feed, name="advisory-feed"),
    re_path(
        r"^advisories/(?P<public_id>[A-Za-z]+-\d{4}-\d{4,})\.(?P<fmt>osv|cve|csaf)\.json$",
        advisories.advisory_export,
        name="advisory-export",
    ),
    re_path(
        r"^advisories/(?P<public_id>[A-Za-z]+-\d{4}-\d{4,})\.(?P<fmt>txt)$",
        advisories.advisory_export,
        name="advisory-text",
    ),
    re_path(
        r"^advisories/(?P<public_id>[A-Za-z]+-\d{4}-\d{4,})/$",
        advisories.advisory_page,
        name="advisory",
    ),
    re_path(r"^cve/(?P<cve_id>CVE-\d{4}-\d{4,19})/$", advisories.cve_page, name="cve"),
    re_path(
        r"^cve/(?P<cve_id>CVE-\d{4}-\d{4,19})(?:\.(?P<fmt>osv))?\.json$",
        advisories.cve_export,
        name="cve-export",
    ),
    path("search/", advisories.archive_search, name="search"),
    path("archive/feed.atom", advisories.archive_feed, name="archive-feed"),
    # The embargo in a case.
    path("cases/<id:case_id>/embargo/", embargo.embargo_action, name="case-embargo"),
    path("cases/<id:case_id>/advisory/", embargo.advisory_preview, name="case-advisory"),
    # The case room.
    path("cases/", cases.case_list, name="cases"),
    path("cases/waiting/", cases.waiting_dashboard, name="cases-waiting"),
    path("cases/<id:case_id>/", cases.case_room, name="case"),
    path("cases/<id:case_id>/posts/", cases.add_post, name="case-post"),
    path("cases/<id:case_id>/posts/<id:post_id>/edit/", cases.edit_post, name="case-post-edit"),
    path("cases/<id:case_id>/status/", cases.set_status, name="case-status"),
    path("cases/<id:case_id>/date/", cases.set_date, name="case-date"),
    path("cases/<id:case_id>/participants/", cases.participants, name="case-participants"),
    path("cases/<id:case_id>/vulnerabilities/", vulns.add_vulnerability, name="case-vuln"),
    path(
        "cases/<id:case_id>/vulnerabilities/<id:vuln_id>/",
        vulns.edit_vulnerability,
        name="case-vuln-edit",
    ),
    path(
        "cases/<id:case_id>/vulnerabilities/<id:vuln_id>/delete/",
        vulns.delete_vulnerability,
        name="case-vuln-delete",
    ),
    path(
        "cases/<id:case_id>/attachments/<id:attachment_id>/",
        cases.attachment,
        name="case-attachment",
    ),
    path(
        "cases/<id:case_id>/report-files/<id:file_id>/",
        report_files.case_report_file,
        name="case-report-file",
    ),
]
