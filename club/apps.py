from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        from club import demo, jobs, receivers, roles, selectors
        from crm import demo as crm_demo
        from club.templatetags.club_tags import render_member_card_panel
        from crm import panels, querysets, timeline

        receivers.connect()
        jobs.register()
        roles.register()
        timeline.register("points", selectors.timeline_points)
        timeline.register("coupon", selectors.timeline_coupons)
        querysets.register_search_extension(selectors.customer_search_by_member_number)
        querysets.register_loyalty_condition(selectors.loyal_members_condition)
        crm_demo.register_step("club", demo.seed)
        panels.register_customer_panel("club_member_card", render_member_card_panel)
        # Privacy (issue 8): membership, ledger and coupons in the export; erasure of free text.
        from club import privacy as club_privacy
        from crm import privacy

        privacy.register_exporter("club", club_privacy.export_club)
        privacy.register_eraser("club", club_privacy.erase_club)
