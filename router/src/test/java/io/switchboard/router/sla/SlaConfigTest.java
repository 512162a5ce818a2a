package io.switchboard.router.sla;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The configuration of INTERFACE.md parses; invalid ones are refused with a reason an admin can act on. */
class SlaConfigTest {

    static final String EXAMPLE = """
            {"calendars": [{"name": "office", "timezone": "Europe/Moscow",
                            "week": {"MONDAY": [["09:00", "13:00"], ["14:00", "18:00"]], "SATURDAY": [["22:00", "02:00"]]},
                            "holidays": ["2026-12-31"], "workingDays": ["2026-12-27"]}],
             "policies": [{"name": "vip-email", "calendar": "office",
                           "conditions": {"channels": ["email"], "priorities": ["urgent", "high"]},
                           "targets": {"urgent": {"firstResponse": "PT15M", "nextResponse": "PT30M", "resolution": "PT4H"},
                                       "high":   {"firstResponse": "PT1H",  "nextResponse": "PT2H",  "resolution": "P1D"}}},
                          {"name": "default", "calendar": null,
                           "targets": {"normal": {"firstResponse": "PT1H", "nextResponse": "PT2H", "resolution": "P2D"}}}]}
            """;

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String s) {
        return JsonMapper.builder().build().readValue(s, Map.class);
    }

    @Test
    void theInterfaceExampleParses() {
        SlaConfig c = SlaConfig.parse(7, json(EXAMPLE));
        assertThat(c.version()).isEqualTo(7);
        assertThat(c.policies()).extracting(SlaPolicy::name).containsExactly("vip-email", "default");
        SlaPolicy vip = c.policy("vip-email");
        assertThat(vip.calendar().zone().getId()).isEqualTo("Europe/Moscow");
        assertThat(vip.target("high", SlaMetric.RESOLUTION)).isEqualTo(Duration.ofDays(1));
        assertThat(c.policy("default").calendar().isAlways()).isTrue();
        // Monday 2026-12-14 12:50 MSK + 15 min of office time: 10 before lunch, 5 after
        assertThat(vip.calendar().plus(Instant.parse("2026-12-14T09:50:00Z"), Duration.ofMinutes(15)))
                .isEqualTo(Instant.parse("2026-12-14T11:05:00Z"));
    }

    @Test
    void invalidConfigurationsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("Europe/Moscow", "Mars/Olympus"))))
                .hasMessageContaining("unknown timezone");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"calendar\": \"office\"", "\"calendar\": \"shop\""))))
                .hasMessageContaining("unknown calendar 'shop'");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("PT15M", "fifteen minutes"))))
                .hasMessageContaining("ISO-8601");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"09:00\", \"13:00\"", "\"9am\", \"13:00\""))))
                .hasMessageContaining("bad time");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"urgent\": {", "\"critical\": {"))))
                .hasMessageContaining("unknown priority 'critical'");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"name\": \"default\", \"calendar\": null,",
                "\"name\": \"default\", \"calendar\": null, \"conditions\": {\"channels\": [\"vk\"]},"))))
                .hasMessageContaining("must have no conditions");
        assertThatThrownBy(() -> SlaConfig.parse(1, json("{\"policies\": []}"))).hasMessageContaining("at least one policy");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"2026-12-31\"", "\"31.12.2026\""))))
                .hasMessageContaining("bad date");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("PT4H", "-PT4H")))).hasMessageContaining("positive");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"email\"]", "\"fax\"]")))).hasMessageContaining("unknown channel");
        assertThatThrownBy(() -> SlaConfig.parse(1, json(EXAMPLE.replace("\"channels\": [\"email\"]", "\"contactTag\": [\"vip\"]"))))
                .hasMessageContaining("unknown condition 'contactTag'").hasMessageContaining("contactTags");
    }
}
