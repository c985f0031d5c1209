"""Covering indexes for the health figures: the grouped queries read only these, never the wide member rows.

Declared here (on the members' and terms' tables) because only health needs them; migration c14b1a2b3c4d5."""
import sqlalchemy as sa

from chapter.members.models import Member, MembershipTerm

# The current run of terms per chapter: joined, came back, paid through, grace (and the id for the terms' join).
MEMBER_DATES = sa.Index("ix_members_health_dates", Member.home_chapter_id, Member.joined_on, Member.continuous_since,
                        Member.paid_through, Member.grace_ends_on, Member.id)
# A member's terms by end: renewals due and done.
TERM_ENDS = sa.Index("ix_membership_terms_health_ends", MembershipTerm.member_id, MembershipTerm.ends_on,
                     MembershipTerm.voided_at, MembershipTerm.membership_type_id)
# The version of the data the kept figures come from (chapter/health/cache.py): the latest change, by index.
MEMBERS_CHANGED = sa.Index("ix_members_updated_at", Member.updated_at)
TERMS_CHANGED = sa.Index("ix_membership_terms_updated_at", MembershipTerm.updated_at)
