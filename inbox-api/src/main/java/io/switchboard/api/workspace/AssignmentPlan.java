package io.switchboard.api.workspace;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Round-robin with capacity, as plain arithmetic: among the agents of the teams that serve the
 * conversation's channel (every configured agent when no team names the channel), the one with
 * free capacity and the fewest open conversations gets it; ties go to whoever was given one
 * longest ago. No I/O, no clock.
 */
final class AssignmentPlan {

    record Agent(String username, int capacity, List<String> teams) {
    }

    /**
     * @param channels channels the team serves (empty: all)
     * @param accounts channel accounts the team serves (empty: all); also limits what its agents see (ADR 0142)
     */
    record Team(String name, List<String> channels, List<String> accounts) {
        @org.springframework.data.annotation.PersistenceCreator
        Team {
            channels = channels == null ? List.of() : List.copyOf(channels);
            accounts = accounts == null ? List.of() : List.copyOf(accounts);
        }

        Team(String name, List<String> channels) {
            this(name, channels, List.of());
        }

        boolean serves(String channel, String account) {
            return (channels.isEmpty() || channels.contains(channel))
                    && (account == null || accounts.isEmpty() || accounts.contains(account));
        }
    }

    record Config(boolean enabled, List<Agent> agents, List<Team> teams) {
        Config {
            agents = agents == null ? List.of() : List.copyOf(agents);
            teams = teams == null ? List.of() : List.copyOf(teams);
        }

        static Config off() {
            return new Config(false, List.of(), List.of());
        }
    }

    static Optional<String> choose(Config config, String channel, Map<String, Integer> openLoad, Map<String, Instant> lastAssigned) {
        return choose(config, channel, null, openLoad, lastAssigned);
    }

    /** As above, for a conversation of this channel account (teams limited to accounts serve only those). */
    static Optional<String> choose(Config config, String channel, String account, Map<String, Integer> openLoad,
                                   Map<String, Instant> lastAssigned) {
        if (!config.enabled()) {
            return Optional.empty();
        }
        List<String> serving = config.teams().stream().filter(t -> t.serves(channel, account)).map(Team::name).toList();
        boolean teamsNameChannel = config.teams().stream().anyMatch(t -> t.channels().contains(channel));
        return config.agents().stream()
                .filter(a -> a.capacity() > 0 && openLoad.getOrDefault(a.username(), 0) < a.capacity())
                .filter(a -> config.teams().isEmpty() || !teamsNameChannel && serving.isEmpty()
                        || a.teams() != null && a.teams().stream().anyMatch(serving::contains))
                .min(Comparator.<Agent>comparingInt(a -> openLoad.getOrDefault(a.username(), 0))
                        .thenComparing(a -> lastAssigned.getOrDefault(a.username(), Instant.EPOCH))
                        .thenComparing(Agent::username))
                .map(Agent::username);
    }

    private AssignmentPlan() {
    }
}
