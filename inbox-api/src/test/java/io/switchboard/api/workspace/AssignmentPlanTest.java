package io.switchboard.api.workspace;

import io.switchboard.api.workspace.AssignmentPlan.Agent;
import io.switchboard.api.workspace.AssignmentPlan.Config;
import io.switchboard.api.workspace.AssignmentPlan.Team;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AssignmentPlanTest {

    static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

    @Test
    void offMeansNobody() {
        assertThat(AssignmentPlan.choose(Config.off(), "telegram", Map.of(), Map.of())).isEmpty();
    }

    @Test
    void theLeastLoadedAgentWins_thenWhoeverWaitedLongest() {
        Config c = new Config(true, List.of(new Agent("ann", 3, List.of()), new Agent("bob", 3, List.of())), List.of());
        assertThat(AssignmentPlan.choose(c, "email", Map.of("ann", 2, "bob", 1), Map.of())).contains("bob");
        assertThat(AssignmentPlan.choose(c, "email", Map.of("ann", 1, "bob", 1),
                Map.of("ann", T0.plusSeconds(5), "bob", T0))).contains("bob");
        assertThat(AssignmentPlan.choose(c, "email", Map.of("ann", 1, "bob", 1),
                Map.of("ann", T0, "bob", T0.plusSeconds(5)))).contains("ann");
    }

    @Test
    void capacityIsNeverExceeded() {
        Config c = new Config(true, List.of(new Agent("ann", 1, List.of()), new Agent("bob", 0, List.of())), List.of());
        assertThat(AssignmentPlan.choose(c, "vk", Map.of(), Map.of())).contains("ann");
        assertThat(AssignmentPlan.choose(c, "vk", Map.of("ann", 1), Map.of())).isEmpty();
    }

    @Test
    void teamsServeTheirChannels() {
        Config c = new Config(true, List.of(new Agent("ann", 5, List.of("mail")), new Agent("bob", 5, List.of("chat"))),
                List.of(new Team("mail", List.of("email")), new Team("chat", List.of("telegram", "vk"))));
        assertThat(AssignmentPlan.choose(c, "email", Map.of("ann", 4), Map.of())).contains("ann");
        assertThat(AssignmentPlan.choose(c, "telegram", Map.of(), Map.of())).contains("bob");
        // a channel no team names goes to anyone with room
        assertThat(AssignmentPlan.choose(c, "phone", Map.of("ann", 5), Map.of())).contains("bob");
    }

    @Test
    void aTeamLimitedToAccountsServesOnlyThose() {
        Config c = new Config(true, List.of(new Agent("ann", 5, List.of("shop")), new Agent("bob", 5, List.of("games"))),
                List.of(new Team("shop", List.of("telegram"), List.of("shop-bot")), new Team("games", List.of("telegram"), List.of("game-bot"))));
        assertThat(AssignmentPlan.choose(c, "telegram", "shop-bot", Map.of(), Map.of())).contains("ann");
        assertThat(AssignmentPlan.choose(c, "telegram", "game-bot", Map.of(), Map.of())).contains("bob");
        assertThat(AssignmentPlan.choose(c, "telegram", "other-bot", Map.of(), Map.of())).isEmpty();
    }
}
