package io.switchboard.standalone;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedInfrastructureTest {

    @Test
    void theStoresPageCacheIsAQuarterOfTheHeapUnlessSet_andANonsenseSettingStopsTheStartWithItsName() {
        assertThat(EmbeddedInfrastructure.cacheMb(""))
                .isEqualTo((int) Math.min(1024, Math.max(64, Runtime.getRuntime().maxMemory() / 4 / (1 << 20))));
        assertThat(EmbeddedInfrastructure.cacheMb(" 300 ")).isEqualTo(300);
        for (String bad : new String[]{"0", "-5", "256MB"}) {
            assertThatThrownBy(() -> EmbeddedInfrastructure.cacheMb(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("INBOX_STORE_CACHE_MB");
        }
    }
}
