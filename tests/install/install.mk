TEST_SUITES += install
.PHONY: test-install
test-install:
	$(Q)tests/install/test_install.sh
