package io.switchboard.router.sla;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The three clocks on a 24/7 policy (first response 1h, next response 2h, resolution 10h). */
class SlaEngineTest {

    static final Instant T0 = Instant.parse("2026-03-02T08:00:00Z");
    static final SlaConfig DEFAULTS = SlaConfig.defaults(Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(10));
    final SlaEngine engine = new SlaEngine(v -> DEFAULTS, 0.8);

    static Instant t(long minutes) {
        return T0.plus(Duration.ofMinutes(minutes));
    }

    static SlaSubject subject(String status, Instant first, Instant awaiting, Instant firstResponse, Instant lastAgent,
                              Instant resolvedAt) {
        return new SlaSubject("c1", "telegram", "default", "normal", Set.of(), null, status, first, awaiting, firstResponse,
                lastAgent, resolvedAt);
    }

    @Test
    void firstResponseRunsFromTheFirstCustomerMessage_warnsAt80Percent_andStopsMetAtTheReply() {
        SlaState s = engine.recompute(subject("open", t(0), t(0), null, null, null), null, t(0));
        assertThat(s.policy()).isEqualTo("default");
        assertThat(s.firstResponse().dueAt()).isEqualTo(t(60));
        assertThat(s.firstResponse().warnAt()).isEqualTo(t(48));
        assertThat(s.nextResponse()).isNull();
        assertThat(s.resolution().dueAt()).isEqualTo(t(600));
        assertThat(s.timers("c1")).extracting(SlaState.Timer::key).containsExactlyInAnyOrder(
                "c1:firstResponse:1:warning", "c1:firstResponse:1:breach", "c1:resolution:1:warning", "c1:resolution:1:breach");

        SlaState answered = engine.recompute(subject("open", t(0), null, t(20), t(20), null), s, t(20));
        assertThat(answered.firstResponse().stoppedAt()).isEqualTo(t(20));
        assertThat(answered.firstResponse().breached()).isFalse();
        assertThat(answered.firstResponse().businessTime()).isEqualTo(Duration.ofMinutes(20));
        assertThat(answered.firstResponse().wallTime()).isEqualTo(Duration.ofMinutes(20));
        assertThat(answered.timers("c1")).extracting(SlaState.Timer::key)
                .containsExactlyInAnyOrder("c1:resolution:1:warning", "c1:resolution:1:breach");
    }

    @Test
    void aLateReplyIsRecordedBreached_andAFiredBreachStaysBreached() {
        SlaState s = engine.recompute(subject("open", t(0), t(0), null, null, null), null, t(0));
        SlaState late = engine.recompute(subject("open", t(0), null, t(75), t(75), null), s, t(75));
        assertThat(late.firstResponse().breached()).isTrue();
        SlaState fired = new SlaState(s.policy(), s.firstResponse().withBreached(), null, s.resolution());
        assertThat(engine.recompute(subject("open", t(0), t(0), null, null, null), fired, t(61)).firstResponse().breached()).isTrue();
    }

    @Test
    void nextResponseTimesEachWaitAfterAnAgentReply_asItsOwnCycle() {
        SlaState s = engine.recompute(subject("open", t(0), null, t(10), t(10), null), null, t(10));
        assertThat(s.nextResponse()).isNull();
        SlaState waiting = engine.recompute(subject("open", t(0), t(30), t(10), t(10), null), s, t(30));
        assertThat(waiting.nextResponse().cycle()).isEqualTo(Long.toString(t(30).toEpochMilli()));
        assertThat(waiting.nextResponse().dueAt()).isEqualTo(t(150));
        SlaState answered = engine.recompute(subject("open", t(0), null, t(10), t(200), null), waiting, t(200));
        assertThat(answered.nextResponse().stoppedAt()).isEqualTo(t(200));
        assertThat(answered.nextResponse().breached()).isTrue();
        assertThat(answered.nextResponse().wallTime()).isEqualTo(Duration.ofMinutes(170));
        SlaState again = engine.recompute(subject("open", t(0), t(300), t(10), t(200), null), answered, t(300));
        assertThat(again.nextResponse().cycle()).isEqualTo(Long.toString(t(300).toEpochMilli()));
        assertThat(again.nextResponse().breached()).isFalse();
        assertThat(again.nextResponse().stoppedAt()).isNull();
    }

    @Test
    void pendingPausesResolution_andReopeningContinuesIt() {
        SlaState open = engine.recompute(subject("open", t(0), null, t(10), t(10), null), null, t(0));
        assertThat(open.resolution().dueAt()).isEqualTo(t(600));
        // pending from minute 100 to 400: 300 minutes do not count
        SlaState pending = engine.recompute(subject("pending", t(0), null, t(10), t(10), null), open, t(100));
        assertThat(pending.resolution().dueAt()).isNull();
        assertThat(pending.resolution().elapsed()).isEqualTo(Duration.ofMinutes(100));
        assertThat(pending.timers("c1")).isEmpty();
        SlaState back = engine.recompute(subject("open", t(0), t(400), t(10), t(10), null), pending, t(400));
        assertThat(back.resolution().dueAt()).isEqualTo(t(900));
        SlaState resolved = engine.recompute(subject("resolved", t(0), null, t(10), t(450), t(500)), back, t(500));
        assertThat(resolved.resolution().stoppedAt()).isEqualTo(t(500));
        assertThat(resolved.resolution().businessTime()).isEqualTo(Duration.ofMinutes(200));
        assertThat(resolved.resolution().wallTime()).isEqualTo(Duration.ofMinutes(500));
        assertThat(resolved.resolution().breached()).isFalse();
        // reopened at 700: continues with 200 of 600 minutes used
        SlaState reopened = engine.recompute(subject("open", t(0), t(700), t(10), t(450), null), resolved, t(700));
        assertThat(reopened.resolution().stoppedAt()).isNull();
        assertThat(reopened.resolution().cycle()).isEqualTo("1");
        assertThat(reopened.resolution().dueAt()).isEqualTo(t(1100));
        // replaying the same change changes nothing
        assertThat(engine.recompute(subject("open", t(0), t(700), t(10), t(450), null), reopened, t(700))).isEqualTo(reopened);
    }

    @Test
    void policiesMatchInOrder_targetsFallBackToNormal_andAConfigChangeAppliesToLaterCycles() {
        SlaConfig v1 = SlaConfig.parse(1, Map.of(
                "calendars", List.of(),
                "policies", List.of(
                        Map.of("name", "vip-email", "conditions", Map.of("channels", List.of("email"), "priorities", List.of("urgent", "high")),
                                "targets", Map.of("urgent", Map.of("firstResponse", "PT15M"), "normal", Map.of("firstResponse", "PT45M"))),
                        Map.of("name", "default", "targets", Map.of("normal", Map.of("firstResponse", "PT1H", "nextResponse", "PT2H"))))));
        SlaConfig v2 = SlaConfig.parse(2, Map.of("policies", List.of(
                Map.of("name", "default", "targets", Map.of("normal", Map.of("firstResponse", "PT3H", "nextResponse", "PT3H"))))));
        long[] current = {1};
        SlaEngine versioned = new SlaEngine(v -> v == SlaEngine.CURRENT ? (current[0] == 1 ? v1 : v2) : v == 1 ? v1 : v2, 0.8);

        SlaSubject urgentEmail = new SlaSubject("c", "email", "default", "urgent", Set.of(), null, "open", t(0), t(0), null, null, null);
        assertThat(versioned.recompute(urgentEmail, null, t(0)).firstResponse().dueAt()).isEqualTo(t(15));
        SlaSubject highEmail = new SlaSubject("c", "email", "default", "high", Set.of(), null, "open", t(0), t(0), null, null, null);
        assertThat(versioned.recompute(highEmail, null, t(0)).firstResponse().dueAt()).isEqualTo(t(45)); // falls back to normal
        SlaSubject chat = subject("open", t(0), t(0), null, null, null);
        SlaState s = versioned.recompute(chat, null, t(0));
        assertThat(s.policy()).isEqualTo("default");
        assertThat(s.firstResponse().dueAt()).isEqualTo(t(60));
        assertThat(s.resolution()).isNull(); // no resolution target: not tracked

        current[0] = 2; // the admin changed the configuration
        assertThat(versioned.recompute(chat, s, t(5)).firstResponse().dueAt()).isEqualTo(t(60)); // started before
        SlaState waiting = versioned.recompute(subject("open", t(0), t(100), t(10), t(10), null), s, t(100));
        assertThat(waiting.nextResponse().dueAt()).isEqualTo(t(280)); // a new cycle: 3h
    }

    @Test
    void policiesChosenByConversationTags_contactTags_topic_andAccount_firstMatchWins() {
        SlaConfig config = SlaConfig.parse(4, Map.of("policies", List.of(
                // both sets must match: a partner account's VIP contact
                Map.of("name", "partner-vip", "conditions", Map.of("accounts", List.of("partner"), "contactTags", List.of("VIP")),
                        "targets", Map.of("normal", Map.of("firstResponse", "PT5M"))),
                // written in capitals: matches the stored (lower-case) contact tag
                Map.of("name", "vip-contacts", "conditions", Map.of("contactTags", List.of(" VIP ", "gold")),
                        "targets", Map.of("normal", Map.of("firstResponse", "PT10M"))),
                Map.of("name", "escalated", "conditions", Map.of("tags", List.of("escalated", "legal")),
                        "targets", Map.of("normal", Map.of("firstResponse", "PT15M"))),
                Map.of("name", "billing", "conditions", Map.of("topics", List.of("billing")),
                        "targets", Map.of("normal", Map.of("firstResponse", "PT20M"))),
                Map.of("name", "partner", "conditions", Map.of("accounts", List.of("partner")),
                        "targets", Map.of("normal", Map.of("firstResponse", "PT25M"))),
                Map.of("name", "default", "targets", Map.of("normal", Map.of("firstResponse", "PT1H"))))));
        SlaEngine e = new SlaEngine(v -> config, 0.8);
        record Case(String account, Set<String> tags, String topic, Set<String> contactTags, String policy, long minutes) {
        }
        List<Case> cases = List.of(
                new Case("default", Set.of(), null, Set.of(), "default", 60),
                new Case("default", Set.of(), null, Set.of("vip"), "vip-contacts", 10),
                new Case("default", Set.of(), null, Set.of("regular", "gold"), "vip-contacts", 10),
                // a conversation tagged "vip" is not a VIP contact: the two kinds of tags are apart
                new Case("default", Set.of("vip"), null, Set.of(), "default", 60),
                new Case("default", Set.of("legal"), null, Set.of(), "escalated", 15),
                new Case("default", Set.of("escalated"), "billing", Set.of(), "escalated", 15), // earlier policy wins
                new Case("default", Set.of(), "billing", Set.of(), "billing", 20),
                new Case("default", Set.of(), "shipping", Set.of(), "default", 60),
                new Case("partner", Set.of(), null, Set.of(), "partner", 25),
                new Case("partner", Set.of(), null, Set.of("vip"), "partner-vip", 5),
                new Case("partner", Set.of("legal"), "billing", Set.of("gold"), "vip-contacts", 10));
        for (Case c : cases) {
            SlaSubject s = new SlaSubject("c", "telegram", c.account(), "normal", c.tags(), c.topic(), "open", t(0), t(0), null, null,
                    null, c.contactTags());
            SlaState state = e.recompute(s, null, t(0));
            assertThat(state.policy()).as(c.toString()).isEqualTo(c.policy());
            assertThat(state.firstResponse().dueAt()).as(c.toString()).isEqualTo(t(c.minutes()));
        }
    }

    @Test
    void snoozedKeepsTheResolutionClockRunning_unlessThePolicySaysItPauses() {
        // the built-in policy (snoozedPauses false): snoozing does not stop the clock
        SlaState open = engine.recompute(subject("open", t(0), null, t(10), t(10), null), null, t(0));
        assertThat(open.resolution().dueAt()).isEqualTo(t(600));
        SlaState snoozed = engine.recompute(subject("snoozed", t(0), null, t(10), t(10), null), open, t(100));
        assertThat(snoozed.resolution().dueAt()).as("still due 10 h after the first message").isEqualTo(t(600));
        assertThat(snoozed.resolution().runningSince()).isNotNull();
        assertThat(snoozed.timers("c1")).extracting(SlaState.Timer::key).contains("c1:resolution:1:breach");
        SlaState woken = engine.recompute(subject("open", t(0), null, t(10), t(10), null), snoozed, t(400));
        assertThat(woken.resolution().dueAt()).as("no time was credited for the snooze").isEqualTo(t(600));
        // pending pauses under the same policy (the existing case), for contrast
        SlaState pending = engine.recompute(subject("pending", t(0), null, t(10), t(10), null), open, t(100));
        assertThat(pending.resolution().dueAt()).isNull();
        assertThat(pending.resolution().elapsed()).isEqualTo(Duration.ofMinutes(100));
        assertThat(pending.timers("c1")).extracting(SlaState.Timer::key).doesNotContain("c1:resolution:1:breach");
    }

    @Test
    void onAnOfficeCalendar_deadlinesSkipNights_andDurationsAreReportedInBusinessAndWallTime() {
        SlaConfig office = SlaConfig.parse(3, Map.of(
                "calendars", List.of(Map.of("name", "office", "timezone", "Europe/Berlin",
                        "week", Map.of("MONDAY", List.of(List.of("09:00", "17:00")), "TUESDAY", List.of(List.of("09:00", "17:00"))))),
                "policies", List.of(Map.of("name", "office-hours", "calendar", "office", "snoozedPauses", true,
                        "targets", Map.of("normal", Map.of("firstResponse", "PT2H", "resolution", "PT8H"))))));
        SlaEngine engine = new SlaEngine(v -> office, 0.5);
        // Monday 2026-03-02 16:00 Berlin (15:00Z): 1h today, 1h on Tuesday from 09:00 -> 10:00 Berlin (09:00Z)
        Instant mondayFour = Instant.parse("2026-03-02T15:00:00Z");
        SlaSubject s = new SlaSubject("c", "vk", "default", "normal", Set.of(), null, "open", mondayFour, mondayFour, null, null, null);
        SlaState state = engine.recompute(s, null, mondayFour);
        assertThat(state.policy()).isEqualTo("office-hours");
        assertThat(state.firstResponse().dueAt()).isEqualTo(Instant.parse("2026-03-03T09:00:00Z"));
        assertThat(state.firstResponse().warnAt()).isEqualTo(Instant.parse("2026-03-02T16:00:00Z")); // 50%: end of Monday
        // answered Tuesday 09:30 Berlin: 1.5 business hours, 17.5 wall hours, met
        Instant answered = Instant.parse("2026-03-03T08:30:00Z");
        SlaState met = engine.recompute(new SlaSubject("c", "vk", "default", "normal", Set.of(), null, "open", mondayFour, null,
                answered, answered, null), state, answered);
        assertThat(met.firstResponse().breached()).isFalse();
        assertThat(met.firstResponse().businessTime()).isEqualTo(Duration.ofMinutes(90));
        assertThat(met.firstResponse().wallTime()).isEqualTo(Duration.ofMinutes(17 * 60 + 30));
        // snoozed pauses resolution under this policy
        SlaState snoozed = engine.recompute(new SlaSubject("c", "vk", "default", "normal", Set.of(), null, "snoozed", mondayFour,
                null, answered, answered, null), met, answered);
        assertThat(snoozed.resolution().dueAt()).isNull();
        assertThat(snoozed.resolution().elapsed()).isEqualTo(Duration.ofMinutes(90));
    }

    @Test
    void aWaitAnsweredWhileTheTrackerLagged_isClosedAtTheAgentsResponse_whenTheNextWaitIsSeen() {
        SlaState waiting = engine.recompute(subject("open", t(0), t(30), t(10), t(10), null), null, t(30));
        // seen next: the agent answered at 40 and the customer wrote again at 50
        SlaState later = engine.recompute(subject("open", t(0), t(50), t(10), t(40), null), waiting, t(50));
        assertThat(later.nextResponse().cycle()).isEqualTo(Long.toString(t(50).toEpochMilli()));
        assertThat(later.closed()).singleElement().satisfies(c -> {
            assertThat(c.cycle()).isEqualTo(Long.toString(t(30).toEpochMilli()));
            assertThat(c.stoppedAt()).isEqualTo(t(40));
            assertThat(c.wallTime()).isEqualTo(Duration.ofMinutes(10));
            assertThat(c.breached()).isFalse();
        });
        assertThat(engine.recompute(subject("open", t(0), t(50), t(10), t(40), null), later, t(50)).closed()).isEmpty();
    }
}
